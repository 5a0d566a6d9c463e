package io.fieldsales.kit

import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.ffi.CancelHandle
import io.fieldsales.kit.ffi.FieldStore
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File

/**
 * The Kotlin side of the FFI-call benchmark: "list 50 leads" through JNA and the generated
 * bindings, on the same data as bindings/examples/list_bench.rs. Not part of `mvn test` (the
 * class name matches no Surefire include pattern); `scripts/test-bindings.sh --bench` runs it
 * against the release library with `-Dtest=ListLeadsBenchmark`.
 */
class ListLeadsBenchmark {
    @TempDir
    lateinit var dir: File

    @Test
    fun `list 50 leads through the FFI`() {
        val iterations = System.getProperty("bench.iterations")?.toInt() ?: 20_000
        FieldStore.open(File(dir, "bench.db").path, "rep-bench", "KR").use { s ->
            s.createLeads(
                (0 until 1_000).map { i ->
                    LeadDraft(
                        name = "김민지 $i", company = "Acme ${i % 37}", emails = listOf("lead$i@acme.co.kr"),
                        phones = listOf("010-1234-%04d".format(i % 10_000)), tags = listOf("expo"),
                    )
                },
            )
            val query = LeadQuery(sort = LeadSort.UPDATED, limit = 50u)
            // JIT warm-up: as many calls as are timed (a fifth of them left C2 compiling on the
            // same two cores while the timed loop ran; docs/benchmarks.md, "One FFI call").
            repeat(iterations) { assertEquals(50, s.listLeads(query).items.size) }
            var n = 0
            val t = System.nanoTime()
            repeat(iterations) { n += s.listLeads(query).items.size }
            val ns = (System.nanoTime() - t).toDouble() / iterations
            assertEquals(50 * iterations, n)
            println("kotlin FieldStore.listLeads (JNA) list 50 leads: ${"%.0f".format(ns)} ns/call ($iterations calls)")

            // The fixed cost of one call, without the 50 records: a call returning a short string.
            var chars = 0
            repeat(iterations / 5) { chars += s.region().length } // JIT warm-up
            chars = 0
            val t2 = System.nanoTime()
            repeat(iterations) { chars += s.region().length }
            val ns2 = (System.nanoTime() - t2).toDouble() / iterations
            assertEquals(2 * iterations, chars)
            println("kotlin FieldStore.region (JNA, trivial call): ${"%.0f".format(ns2)} ns/call ($iterations calls)")

            // The same without a RustBuffer: a call returning a Boolean.
            CancelHandle().use { h ->
                var yes = 0
                repeat(iterations / 5) { if (!h.isCancelled()) yes++ }
                yes = 0
                val t3 = System.nanoTime()
                repeat(iterations) { if (!h.isCancelled()) yes++ }
                val ns3 = (System.nanoTime() - t3).toDouble() / iterations
                assertEquals(iterations, yes)
                println("kotlin CancelHandle.isCancelled (JNA, trivial call, no buffer): ${"%.0f".format(ns3)} ns/call ($iterations calls)")
            }
        }
    }
}
