package io.fieldsales.kit

import io.fieldsales.kit.core.FfiConverterOptionalString
import io.fieldsales.kit.core.FfiConverterSequenceString
import io.fieldsales.kit.core.FfiConverterString
import io.fieldsales.kit.core.FfiConverterTypeLeadDraft
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.ffi.FieldStore
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.BufferUnderflowException
import java.nio.ByteBuffer

/**
 * A buffer Rust returns is lifted from one heap copy of its bytes, strings decoded straight from
 * it (bindings/kotlin-fixup.sh, "heap lift"): the same values and the same errors as uniffi's
 * reads from a direct buffer.
 */
class LiftTest {
    @TempDir lateinit var dir: File

    private val texts = listOf("", "a", "김민지", "Zoë 🚀 café", "x".repeat(70_000), "한".repeat(30_000))

    @Test
    fun `records and strings come back as they went into a Rust buffer`() {
        for (t in texts) {
            val draft = LeadDraft(name = t, company = "Acme $t", emails = listOf("a@b.co", t), tags = listOf(t, "", t))
            assertEquals(draft, FfiConverterTypeLeadDraft.lift(FfiConverterTypeLeadDraft.lower(draft)))
            assertEquals(listOf(t, "", t), FfiConverterSequenceString.lift(FfiConverterSequenceString.lower(listOf(t, "", t))))
        }
    }

    @Test
    fun `listed leads keep every character`() {
        FieldStore.open(File(dir, "s.db").path, "rep-kim", "KR").use { s ->
            val names = listOf("김민지", "Zoë 🚀 café", "이서준 ".repeat(40).trim())
            s.createLeads(names.map { LeadDraft(name = it, tags = listOf(it.take(18))) })
            val items = s.listLeads(LeadQuery(sort = LeadSort.UPDATED, limit = 50u)).items
            assertEquals(names.toSet(), items.map { it.name }.toSet())
            items.forEach { assertEquals(listOf(it.name!!.take(18)), it.tags) }
        }
    }

    @Test
    fun `a bad length fails the same way from a heap buffer and a direct one`() {
        for (make in listOf<(ByteArray) -> ByteBuffer>({ ByteBuffer.wrap(it) }, { b -> ByteBuffer.allocateDirect(b.size).put(b).flip() })) {
            assertThrows<BufferUnderflowException> { FfiConverterString.read(make(byteArrayOf(0, 0, 0, 4, 'a'.code.toByte()))) }
            assertThrows<NegativeArraySizeException> { FfiConverterString.read(make(byteArrayOf(-1, -1, -1, -1, 0))) }
            val ok = make(byteArrayOf(0, 0, 0, 1, 'a'.code.toByte(), 9))
            assertEquals("a", FfiConverterString.read(ok))
            assertEquals(1, ok.remaining())
        }
    }

    @Test
    fun `bytes left over after a lift are refused`() {
        // A list of one string read as an optional string: a "none" tag, then bytes left over.
        val buf = FfiConverterSequenceString.lower(listOf("abc"))
        val e = assertThrows<RuntimeException> { FfiConverterOptionalString.lift(buf) }
        assertEquals("junk remaining in buffer after lifting, something is very wrong!!", e.message)
    }
}
