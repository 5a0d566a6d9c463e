package io.fieldsales.ui

import androidx.compose.ui.ImageComposeScene
import androidx.compose.ui.unit.Density
import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.core.Potential
import io.fieldsales.ui.screens.LeadsScreen
import io.fieldsales.ui.state.LeadListState
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File

/**
 * The list screen on a store of 100,000 leads: from opening the screen to its first page drawn,
 * and from a keystroke in search to the results drawn, each next to the core call it wraps
 * (`listPage`, `searchPage` through the FFI), measured in the same run. A benchmark, not a test:
 * the class name matches no Surefire include pattern; `scripts/test-bindings.sh --bench` runs it
 * with `-Dtest=ListScreenBenchmark` against the release library. Figures in docs/benchmarks.md.
 *
 * "Drawn" is the first frame rendered (offscreen, Skia on the CPU, 400 × 860 dp at 1.5×) after
 * the state holder delivered the rows. The store is built once under target/ (about a minute).
 */
class ListScreenBenchmark {
    private val leads = (System.getProperty("bench.leads") ?: "100000").toInt()
    private val rounds = (System.getProperty("bench.rounds") ?: "30").toInt()

    private fun store(): FieldSalesKit {
        val f = File("target/bench/list-$leads-v1.db")
        val fresh = !f.exists()
        f.parentFile.mkdirs()
        val kit = runBlocking { FieldSalesKit.open(f.path, "rep-bench", "KR") }
        if (fresh) {
            val family = listOf("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임")
            val given = listOf("민지", "서준", "지훈", "유나", "하늘", "도윤", "서아", "민호", "지우", "세영", "예린", "준호")
            for (batch in 0 until leads / 5_000) {
                kit.store.createLeads((0 until 5_000).map { j ->
                    val i = batch * 5_000 + j
                    LeadDraft(
                        name = family[i % 10] + given[(i / 10) % 12] + " $i", company = "Acme ${i % 997}",
                        emails = listOf("lead$i@example.com"), event = if (i % 2 == 0) "Seoul Expo" else "Busan Fair",
                        potential = listOf(Potential.HOT, Potential.WARM, Potential.COLD)[i % 3], tags = listOf("expo"),
                    )
                })
            }
        }
        return kit
    }

    private fun median(xs: List<Long>) = xs.sorted()[xs.size / 2]
    private fun ms(ns: Long) = "%.2f ms".format(ns / 1e6)

    /** Renders until [done] holds, then one more frame: the frame that shows it. */
    private fun renderUntil(scene: ImageComposeScene, start: Long, done: () -> Boolean): Long {
        var t = 0L
        while (!done()) {
            scene.render(t); t += 16_000_000
            if (System.nanoTime() - start > 60_000_000_000) error("nothing drawn in a minute")
        }
        scene.render(t)
        return System.nanoTime() - start
    }

    @Test
    fun `open the list and search as you type on 100,000 leads`() {
        val kit = store()
        val s = kit.store
        val outbox = s.pendingUploadCount()
        println("bench: $leads leads, $outbox changes waiting (each page's unsynced marks read the outbox)")
        // Every lead unsynced (a store that never synced): the marks' outbox read at its largest.
        run {
            val phase = "all unsynced"
            val open = mutableListOf<Long>(); val openCore = mutableListOf<Long>(); val openPlain = mutableListOf<Long>()
            val key = mutableListOf<Long>(); val keyCore = mutableListOf<Long>(); val keyPlain = mutableListOf<Long>()
            val words = listOf("김", "김민", "이서", "박지훈", "acme 12", "lead77", "최유")
            repeat(rounds + 3) { round ->
                // The core calls the screen wraps, alone.
                var t = System.nanoTime(); s.listPage(LeadQuery(sort = LeadSort.UPDATED, limit = 50u)); val c1 = System.nanoTime() - t
                t = System.nanoTime(); s.listLeads(LeadQuery(sort = LeadSort.UPDATED, limit = 50u)); val p1 = System.nanoTime() - t
                val word = words[round % words.size]
                t = System.nanoTime(); s.searchPage(word, 200u); val c2 = System.nanoTime() - t
                t = System.nanoTime(); s.searchLeads(word, 200u); val p2 = System.nanoTime() - t
                // The screen: a new state holder and scene, as when the rep opens the tab.
                val scope = testScope()
                t = System.nanoTime()
                val state = LeadListState(session(kit), scope)
                state.start()
                val scene = ImageComposeScene(600, 1290, Density(1.5f)) { Themed(KO) { LeadsScreen(state, onOpen = {}) } }
                val o = renderUntil(scene, t) { state.ui.value.items.isNotEmpty() && !state.ui.value.loading }
                t = System.nanoTime()
                state.onSearchChange(word)
                val k = renderUntil(scene, t) { state.ui.value.search == word && !state.ui.value.loading }
                assertTrue(state.ui.value.items.isNotEmpty())
                state.stop(); scene.close()
                if (round >= 3) { open += o; openCore += c1; openPlain += p1; key += k; keyCore += c2; keyPlain += p2 }
            }
            println("bench[$phase]: open list → first page drawn: median ${ms(median(open))} | core listPage (50 + marks): ${ms(median(openCore))} | listLeads (50, no marks): ${ms(median(openPlain))}")
            println("bench[$phase]: keystroke → results drawn: median ${ms(median(key))} | core searchPage (≤200 + marks): ${ms(median(keyCore))} | searchLeads (≤200, no marks): ${ms(median(keyPlain))}")
        }
    }
}

