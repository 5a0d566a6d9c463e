package io.fieldsales.kit

import io.fieldsales.kit.core.FormField
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.core.Money
import io.fieldsales.kit.core.RequiredField
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.core.StagePatch
import io.fieldsales.kit.ffi.FieldStore
import io.fieldsales.kit.ffi.FieldsalesException
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File

/** A refused input names its form field across the FFI, with the core's message unchanged. */
class FormErrorTest {
    @TempDir lateinit var dir: File

    @Test
    fun `a validation error carries its field and the core's message`() {
        FieldStore.open(File(dir, "s.db").path, "rep-kim", "KR").use { s ->
            val e = assertThrows<FieldsalesException.Validation> {
                s.createLead(LeadDraft(name = "김민지", emails = listOf("minji@")))
            }
            assertEquals(FormField.EMAIL, e.field)
            assertEquals("'minji@' is not a valid e-mail address", e.message)
            assertEquals(e.message, e.reason)
            assertEquals(0, s.listPage(LeadQuery(sort = LeadSort.UPDATED)).items.size, "nothing saved")

            val phone = assertThrows<FieldsalesException.Validation> { s.createLead(LeadDraft(name = "x", phones = listOf("12"))) }
            assertEquals(FormField.PHONE, phone.field)
            // A stage rule points at the field the stage needs.
            s.setStage(Stage.PROPOSAL, StagePatch(required = listOf(RequiredField.DEAL_VALUE)))
            val lead = s.createLead(LeadDraft(name = "김민지"))
            val rule = assertThrows<FieldsalesException.Validation> { s.updateLead(lead.id, LeadPatch(stage = Stage.PROPOSAL)) }
            assertEquals(FormField.DEAL_VALUE, rule.field)
            assertTrue(rule.message!!.contains("needs a deal value"), rule.message)
            s.updateLead(lead.id, LeadPatch(stage = Stage.PROPOSAL, dealValue = Money(1_000_000, "KRW")))
            // Other errors keep their plain message too.
            val nf = assertThrows<FieldsalesException.NotFound> { s.lead("0190a0a0-0000-7000-8000-000000000000") }
            assertTrue(nf.message!!.endsWith("was not found"), nf.message)
        }
    }
}
