package io.fieldsales.kit

import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.core.Money
import io.fieldsales.kit.ffi.FieldsalesException
import io.fieldsales.kit.ffi.formatFieldValue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File

/**
 * Issue 14: a refused change reads in plain words (the record, each field old → new, why, what to
 * do), is applied again where the rep may, or dropped. Against the real `fieldsales-server` that
 * scripts/test-bindings.sh started.
 */
class QuarantineTest {
    @TempDir
    lateinit var dir: File

    @Test
    fun `a refused change reads in plain words, applies where the rep may and is discarded`(): Unit = runBlocking {
        val colleague = TestServer.user("sync")
        FieldSalesKit.enroll(File(dir, "phone.db").path, "KR", TestServer.url, TestServer.code("quarantine", 1), "Kim's phone").use { phone ->
            val lead = phone.createLead(LeadDraft(name = "Yuna Jung", company = "Hanbit", notes = "Met at the booth."))
            assertEquals(1uL, phone.sync().sent)

            // A rep hands the lead over and edits it in one go: the server refuses the change.
            phone.updateLead(
                lead.id,
                LeadPatch(company = "Hanbit Tech", dealValue = Money(2_500_000L, "USD"), owner = colleague, notes = "Met at the booth. Over to you."),
            )
            assertEquals(1uL, phone.sync().rejected)
            val entry = phone.quarantine().single()
            assertEquals("Yuna Jung", entry.detail.record)
            val fields = entry.detail.fields.associateBy { it.field }
            assertEquals("Hanbit", fields.getValue("company").old)
            assertEquals("Hanbit Tech", fields.getValue("company").new)
            assertEquals(" Over to you.", fields.getValue("notes").new)
            assertEquals(colleague, fields.getValue("owner").new)
            assertEquals("25,000.00 USD", formatFieldValue("deal", fields.getValue("deal").new!!, "Asia/Seoul"))
            assertTrue(entry.why.contains("only managers and admins may give a lead to someone else"), entry.why)
            assertTrue(entry.whatToDo.contains("quarantine apply"), entry.whatToDo)
            assertTrue(entry.canApply)
            val same = phone.quarantineEntry(entry.id)
            assertEquals(entry.detail, same.detail)
            assertEquals(entry.whatToDo, same.whatToDo)

            // Applied where a rep may: the edits go as a new change, the hand-over is left out.
            val done = phone.applyQuarantined(entry.id)
            assertFalse(done.resent)
            assertEquals(listOf(entry.id), done.cleared)
            assertTrue(done.skipped.single().startsWith("owner"), done.skipped.toString())
            val back = phone.lead(lead.id)
            assertEquals("Hanbit Tech", back.company)
            assertEquals("Met at the booth. Over to you.", back.notes)
            assertEquals(phone.userId, back.owner)
            val synced = phone.sync()
            assertEquals(1uL, synced.sent)
            assertEquals(0uL, synced.rejected)

            // Another refusal, dropped on purpose.
            phone.updateLead(lead.id, LeadPatch(owner = colleague))
            assertEquals(1uL, phone.sync().rejected)
            val again = phone.quarantine().single()
            assertEquals(again.id, phone.discardQuarantined(again.id).id)
            assertTrue(phone.quarantine().isEmpty())
            assertThrows<FieldsalesException.NotFound> { runBlocking { phone.quarantineEntry(again.id) } }
        }
    }
}
