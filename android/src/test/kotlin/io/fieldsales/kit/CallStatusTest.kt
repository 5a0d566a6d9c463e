package io.fieldsales.kit

import io.fieldsales.kit.core.ChangedRecords
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.ffi.ChangeListener
import io.fieldsales.kit.ffi.FieldStore
import io.fieldsales.kit.ffi.FieldsalesException
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File

/**
 * Each Rust call reuses a per-thread call status (bindings/kotlin-fixup.sh): a refused call must
 * leave nothing behind for the next call on the thread, and a call made from a listener while a
 * write is under way on the same thread must not share the write's status.
 */
class CallStatusTest {
    @TempDir lateinit var dir: File

    private val missing = "0190a0a0-0000-7000-8000-000000000000"

    @Test
    fun `a refused call leaves the next call on the thread clean`() {
        FieldStore.open(File(dir, "s.db").path, "rep-kim", "KR").use { s ->
            val id = s.createLead(LeadDraft(name = "김민지")).id
            repeat(100) {
                val e = assertThrows<FieldsalesException.Validation> {
                    s.createLead(LeadDraft(name = "x", emails = listOf("minji@")))
                }
                assertEquals("'minji@' is not a valid e-mail address", e.message)
                assertEquals(listOf(id), s.listLeads(LeadQuery(sort = LeadSort.UPDATED, limit = 50u)).items.map { it.id })
                assertEquals("김민지", s.lead(id).name)
            }
        }
    }

    @Test
    fun `a refused call inside a listener does not fail the write around it`() {
        FieldStore.open(File(dir, "s.db").path, "rep-kim", "KR").use { s ->
            val seen = mutableListOf<String>()
            val outer = Thread.currentThread()
            val handle = s.addObserver(object : ChangeListener {
                override fun onChange(changed: ChangedRecords) {
                    assertEquals(outer, Thread.currentThread(), "the listener runs inside the write's call")
                    val nf = assertThrows<FieldsalesException.NotFound> { s.lead(missing) }
                    seen += "${nf::class.simpleName} ${s.listLeads(LeadQuery(sort = LeadSort.UPDATED, limit = 50u)).items.size}"
                }
            })
            val first = s.createLead(LeadDraft(name = "김민지"))
            val second = s.createLead(LeadDraft(name = "이서준"))
            assertEquals("이서준", second.name)
            assertEquals(listOf("NotFound 1", "NotFound 2"), seen)
            s.removeObserver(handle)
            assertEquals(first.id, s.lead(first.id).id)
        }
    }
}
