package io.fieldsales.kit

import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.ffi.LiveUpdate
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File

/** Live updates against the real `fieldsales-server` that scripts/test-bindings.sh started. */
class LiveUpdatesTest {
    @TempDir
    lateinit var dir: File

    @Test
    fun `a device collecting live updates receives a lead its other device captured`(): Unit = runBlocking {
        val phone = FieldSalesKit.enroll(File(dir, "phone.db").path, "KR", TestServer.url, TestServer.code("live", 1), "phone")
        val tablet = FieldSalesKit.enroll(File(dir, "tablet.db").path, "KR", TestServer.url, TestServer.code("live", 2), "tablet")
        phone.use {
            tablet.use {
                val updates = Channel<LiveUpdate>(Channel.UNLIMITED)
                val collecting = launch { tablet.liveUpdates().collect { updates.send(it) } }
                withTimeout(30_000) { assertEquals(LiveUpdate.Connected, updates.receive()) }
                val lead = phone.createLead(LeadDraft(name = "Live 라이브"))
                assertEquals(1uL, phone.sync().sent)
                // The tablet syncs by itself: no sync() call on it.
                withTimeout(30_000) {
                    while (true) {
                        val u = updates.receive()
                        if (u is LiveUpdate.Synced && u.summary.received > 0uL) break
                    }
                }
                collecting.cancel()
                assertEquals("Live 라이브", tablet.lead(lead.id).name)
            }
        }
    }
}
