package io.fieldsales.kit

import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.ffi.FieldStore
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File

/**
 * Objects are freed and no handle leaks: opening a store, listing all 10,000 of its leads (20
 * pages of 500 through the FFI) and closing it, 100 times, leaves resident memory and open file
 * descriptors where they were after warm-up. The JVM heap is fixed and pre-touched (pom.xml:
 * -Xms256m -Xmx256m -XX:+AlwaysPreTouch), so growth of VmRSS is native memory: Rust objects,
 * SQLite connections and caches, JNA buffers.
 */
class MemoryTest {
    @TempDir
    lateinit var dir: File

    companion object {
        const val LEADS = 10_000
        const val ROUNDS = 100
        const val WARMUP = 10

        /** Allowed growth of VmRSS from round 10 to round 100. Measured on a healthy build: none
         *  (-1 to -3 MiB). A store per round left open costs ~2.7 MiB and 4-5 file descriptors
         *  (measured in the Swift twin of this test: +246 MiB, +401 fds over 90 rounds). */
        const val RSS_GROWTH_LIMIT_KIB = 24 * 1024L
    }

    @Test
    fun `open, list 10,000 leads and close 100 times without growing`() {
        val path = File(dir, "big.db").path
        FieldStore.open(path, "rep-kim", "KR").use { s ->
            for (batch in 0 until LEADS / 1_000) {
                s.createLeads(
                    (0 until 1_000).map { i ->
                        val n = batch * 1_000 + i
                        LeadDraft(name = "리드 $n", company = "Acme ${n % 50}", emails = listOf("lead$n@acme.co.kr"), tags = listOf("expo"))
                    },
                )
            }
        }

        fun round(): Int = FieldStore.open(path, "rep-kim", "KR").use { s ->
            var n = 0
            var after: String? = null
            do {
                val page = s.listLeads(LeadQuery(sort = LeadSort.UPDATED, limit = 500u, after = after))
                n += page.items.size
                after = page.next
            } while (after != null)
            n
        }

        val fdsBefore = openFds()
        repeat(WARMUP) { assertEquals(LEADS, round()) }
        System.gc()
        val rssWarm = vmRssKib()
        repeat(ROUNDS - WARMUP) { assertEquals(LEADS, round()) }
        System.gc()
        val rssEnd = vmRssKib()
        val fdsAfter = openFds()
        println(
            "memory: VmRSS after $WARMUP rounds ${rssWarm / 1024} MiB, after $ROUNDS rounds ${rssEnd / 1024} MiB, " +
                "growth ${(rssEnd - rssWarm)} KiB (limit $RSS_GROWTH_LIMIT_KIB KiB); open fds $fdsBefore -> $fdsAfter",
        )
        assertTrue(rssEnd - rssWarm < RSS_GROWTH_LIMIT_KIB, "VmRSS grew by ${rssEnd - rssWarm} KiB over ${ROUNDS - WARMUP} rounds")
        assertTrue(fdsAfter <= fdsBefore + 2, "open file descriptors: $fdsBefore before, $fdsAfter after")
    }
}
