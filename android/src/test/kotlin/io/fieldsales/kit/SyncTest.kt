package io.fieldsales.kit

import io.fieldsales.kit.core.ActivityDraft
import io.fieldsales.kit.core.ActivityKind
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.ffi.CancelHandle
import io.fieldsales.kit.ffi.ChangeListener
import io.fieldsales.kit.core.ChangedRecords
import io.fieldsales.kit.ffi.FieldStore
import io.fieldsales.kit.ffi.FieldsalesException
import io.fieldsales.kit.core.SyncPhase
import io.fieldsales.kit.core.SyncProgress
import io.fieldsales.kit.ffi.enroll
import io.fieldsales.kit.ffi.newActorId
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.util.Collections

/** Against the real `fieldsales-server` that scripts/test-bindings.sh started on 127.0.0.1. */
class SyncTest {
    @TempDir
    lateinit var dir: File

    private fun path(name: String) = File(dir, name).path

    private suspend fun countLeads(kit: FieldSalesKit): Int {
        var n = 0
        var after: String? = null
        do {
            val page = kit.listLeads(LeadQuery(sort = LeadSort.CREATED, limit = 500u, after = after))
            n += page.items.size
            after = page.next
        } while (after != null)
        return n
    }

    @Test
    fun `enrolls two devices, syncs through the server and ends with its data on the second`(): Unit = runBlocking {
        val user = TestServer.user("sync")
        FieldSalesKit.enroll(path("phone.db"), "KR", TestServer.url, TestServer.code("sync", 1), "Kim's phone").use { phone ->
            assertEquals(user, phone.userId)
            assertTrue(phone.isEnrolled)
            val lead = phone.createLead(
                LeadDraft(name = "김민지", company = "Acme Korea", phones = listOf("010-1234-5678"), notes = "명함 🤝", tags = listOf("expo")),
            )
            val call = phone.addActivity(ActivityDraft(leadId = lead.id, kind = ActivityKind.CALL, subject = "첫 통화", occurredAt = T0))
            assertEquals(2L, phone.pendingUploadCount())

            val progress = Collections.synchronizedList(mutableListOf<SyncProgress>())
            val sent = phone.sync { progress += it }
            assertEquals(2uL, sent.sent)
            assertEquals(0uL, sent.rejected)
            assertEquals(0L, phone.pendingUploadCount())
            assertTrue(progress.any { it.phase == SyncPhase.PUSH && it.done == 2uL && it.total == 2uL }, progress.toString())
            assertTrue(progress.any { it.phase == SyncPhase.PULL }, progress.toString())

            FieldSalesKit.enroll(path("tablet.db"), "KR", TestServer.url, TestServer.code("sync", 2), "Kim's tablet").use { tablet ->
                assertTrue(tablet.listLeads().items.isEmpty())
                val merged = Collections.synchronizedList(mutableListOf<ChangedRecords>())
                val handle = tablet.store.addObserver(object : ChangeListener {
                    override fun onChange(changed: ChangedRecords) {
                        merged += changed
                    }
                })
                val got = tablet.sync()
                assertEquals(2uL, got.received)
                val detail = tablet.leadDetail(lead.id)
                assertEquals("김민지", detail.lead.name)
                assertEquals("명함 🤝", detail.lead.notes)
                assertEquals(listOf("+821012345678"), detail.lead.phones)
                assertEquals(listOf(call.id), detail.activities.map { it.id })
                assertEquals("첫 통화", detail.activities.single().subject)
                assertTrue(merged.any { lead.id in it.leads } && merged.any { call.id in it.activities }, "observer told of the merge: $merged")
                tablet.store.removeObserver(handle)

                // An edit on the tablet reaches the phone.
                tablet.updateLead(lead.id, LeadPatch(stage = Stage.CONTACTED))
                assertEquals(1uL, tablet.sync().sent)
                phone.sync()
                assertEquals(Stage.CONTACTED, phone.lead(lead.id).stage)

                // A change the server refuses (a rep may not hand a lead to another user) is kept
                // aside in quarantine, and the lead goes back to the server's version.
                phone.updateLead(lead.id, LeadPatch(owner = TestServer.user("cancel")))
                val refused = phone.sync()
                assertEquals(1uL, refused.rejected)
                val q = phone.quarantine().single()
                assertEquals("forbidden", q.code)
                assertEquals(lead.id, q.docId)
                assertTrue(q.reason.contains("managers and admins"), q.reason)
                assertTrue(q.change.isNotEmpty())
                assertEquals(user, phone.lead(lead.id).owner)
                assertEquals(Stage.CONTACTED, phone.lead(lead.id).stage)
            }
        }
    }

    @Test
    fun `sync errors are typed`(): Unit = runBlocking {
        // Not enrolled.
        FieldSalesKit.open(path("solo.db"), "rep-solo", "KR").use { solo ->
            val e = assertThrows<FieldsalesException.NotEnrolled> { solo.sync() }
            assertTrue(e.message!!.contains("not enrolled"), e.message)
        }
        // A code that was never issued.
        val bad = assertThrows<FieldsalesException.Server> { enroll(TestServer.url, "AAAA-BBBB-CCCC-DDDD", "x", newActorId()) }
        assertEquals("invalid_code", bad.code)
        assertEquals(403.toUShort(), bad.status)
        assertTrue(bad.message!!.contains("invalid_code"), bad.message)
        // Nobody listens on port 1.
        assertThrows<FieldsalesException.Network> { enroll("http://127.0.0.1:1", "AAAA-BBBB-CCCC-DDDD", "x", newActorId()) }
        // A store opened for one user cannot be enrolled with another user's code.
        FieldSalesKit.open(path("other.db"), "rep-other", "KR").close()
        val wrong = assertThrows<FieldsalesException.WrongUser> {
            FieldSalesKit.enroll(path("other.db"), "KR", TestServer.url, TestServer.code("sync", 3), "wrong")
        }
        assertTrue(wrong.message!!.contains("belongs to 'rep-other'"), wrong.message)
    }

    @Test
    fun `cancelling a sync leaves the store consistent and the next sync carries on`(): Unit = runBlocking {
        val total = 1_200
        FieldSalesKit.enroll(path("cancel.db"), "KR", TestServer.url, TestServer.code("cancel", 1), "cancel phone").use { kit ->
            kit.createLeads((1..total).map { LeadDraft(name = "리드 $it", company = "Acme ${it % 7}") })
            assertEquals(total.toLong(), kit.pendingUploadCount())

            // Cancelled before it starts: nothing is sent.
            val early = CancelHandle()
            early.cancel()
            assertThrows<FieldsalesException.Cancelled> { kit.sync(early) }
            assertEquals(total.toLong(), kit.pendingUploadCount())

            // Cancelled during the push, after the first batch was stored by the server.
            val handle = CancelHandle()
            val e = assertThrows<FieldsalesException.Cancelled> {
                kit.sync(handle) { p -> if (p.phase == SyncPhase.PUSH && p.done > 0uL) handle.cancel() }
            }
            assertEquals("sync was cancelled", e.message)
            assertTrue(handle.isCancelled())
            val left = kit.pendingUploadCount()
            assertTrue(left in 1 until total, "some but not all changes sent: $left left")
            val report = kit.store.verify()
            assertTrue(report.ok, report.toString())
            assertEquals(total, countLeads(kit))

            // The next sync sends exactly the rest.
            val rest = kit.sync()
            assertEquals(left.toULong(), rest.sent)
            assertEquals(0L, kit.pendingUploadCount())
        }

        // A new device cancelled during its first pull: consistent, partial, then complete.
        FieldSalesKit.enroll(path("cancel-tablet.db"), "KR", TestServer.url, TestServer.code("cancel", 2), "cancel tablet").use { tablet ->
            val handle = CancelHandle()
            assertThrows<FieldsalesException.Cancelled> {
                tablet.sync(handle) { p -> if (p.phase == SyncPhase.PULL && p.done > 0uL) handle.cancel() }
            }
            val partial = countLeads(tablet)
            assertTrue(partial in 1 until total, "a partial pull: $partial")
            assertTrue(tablet.store.verify().ok)
            tablet.sync()
            assertEquals(total, countLeads(tablet))
            assertTrue(tablet.store.verify().ok)
        }
    }

    @Test
    fun `enrolls an existing store and keeps its leads`(): Unit = runBlocking {
        // A rep who captured leads before enrolling: the store keeps its actor and data.
        val user = TestServer.user("cancel")
        FieldStore.open(path("early.db"), user, "KR").use { it.createLead(LeadDraft(name = "오프라인 리드")) }
        FieldSalesKit.enroll(path("early.db"), "KR", TestServer.url, TestServer.code("cancel", 3), "early phone").use { kit ->
            assertTrue(kit.isEnrolled)
            assertFalse(kit.listLeads().items.isEmpty())
            assertEquals(1uL, kit.sync().sent)
        }
    }
}
