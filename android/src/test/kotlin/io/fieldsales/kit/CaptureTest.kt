package io.fieldsales.kit

import io.fieldsales.kit.core.CaptureChannel
import io.fieldsales.kit.core.DuplicateReason
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.ffi.FieldStore
import io.fieldsales.kit.ffi.FieldsalesException
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File

/** Capture helpers, duplicates and CSV import through the FFI: the calls a booth app makes. */
class CaptureTest {
    @TempDir
    lateinit var dir: File

    private lateinit var store: FieldStore

    private fun open(): FieldStore = FieldStore.open(File(dir, "rep.db").path, "rep-kim", "KR").also { store = it }

    @AfterEach
    fun close() = store.close()

    private fun vcard(name: String, email: String, org: String) =
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:$name\r\nORG:$org\r\nEMAIL;TYPE=work:$email\r\nTEL;TYPE=cell:010-1234-5678\r\nEND:VCARD\r\n"

    @Test
    fun `a badge QR code becomes a draft, and a code that is not a contact is a typed error`() {
        val store = open()
        val scan = store.parseQr(vcard("김민지", "MinJi@Acme.co.kr", "Acme Korea"))
        assertEquals("김민지", scan.draft.name)
        assertEquals("Acme Korea", scan.draft.company)
        assertEquals(CaptureChannel.BADGE_SCAN, scan.draft.channel)
        assertTrue(scan.confidence.any { it.field == "name" && it.confidence == 1.0f }, scan.confidence.toString())
        val lead = store.createLead(scan.draft)
        assertEquals(listOf("minji@acme.co.kr"), lead.emails)
        assertEquals(listOf("+821012345678"), lead.phones)

        val e = assertThrows<FieldsalesException.UnreadableCode> { store.parseQr("\u0001\u0002 WIFI:S:booth;;") }
        assertTrue(e.message!!.isNotBlank(), e.message)
        assertEquals(1, store.listLeads(LeadQuery(sort = LeadSort.UPDATED)).items.size, "a failed scan writes nothing")
    }

    @Test
    fun `business card text gives a best-effort draft with confidences`() {
        val store = open()
        val card = store.parseCardText("Park Jisoo\nSales Director\nHanbit Logistics\njisoo.park@hanbit.kr\nMobile +82 10 9876 5432")
        assertEquals(CaptureChannel.BUSINESS_CARD, card.draft.channel)
        assertEquals(listOf("jisoo.park@hanbit.kr"), card.draft.emails)
        val c = card.confidence.firstOrNull { it.field == "emails[0]" }
        assertNotNull(c, card.confidence.toString())
        assertTrue(c!!.confidence > 0.0f && c.confidence <= 1.0f, c.toString())
    }

    @Test
    fun `the same visitor scanned twice is a duplicate, merged without losing anything`() {
        val store = open()
        val first = store.createLead(store.parseQr(vcard("Kim Minji", "minji@acme.co.kr", "Acme")).draft)
        val second = store.createLead(store.parseQr(vcard("Minji Kim", "MINJI@acme.co.kr", "Acme Korea")).draft)
        val groups = store.duplicates()
        val byEmail = groups.single { it.reason == DuplicateReason.SAME_EMAIL }
        assertEquals("minji@acme.co.kr", byEmail.value)
        assertEquals(setOf(first.id, second.id), byEmail.leads.map { it.id }.toSet())
        assertTrue(store.duplicatesOf(second.id).any { it.reason == DuplicateReason.SAME_EMAIL })

        val kept = store.mergeLeads(first.id, second.id)
        assertEquals(listOf(second.id), kept.mergedFrom)
        val gone = store.lead(second.id)
        assertTrue(gone.deleted)
        assertEquals(first.id, gone.mergedInto)
        assertEquals(emptyList<Any>(), store.duplicates())
    }

    @Test
    fun `a CSV import checks every row on a dry run and never half-applies`() {
        val store = open()
        val bad = "Name,Company,Email\nKim Minji,Acme,minji@acme.co.kr\nLee Jun,Hanbit,not-an-email\n".toByteArray()
        val dry = store.importCsv(bad, true, null, false)
        assertTrue(dry.dryRun)
        assertEquals(2UL, dry.rowsRead)
        assertEquals(1UL, dry.validRows)
        assertEquals(0UL, dry.imported)
        assertEquals(3UL, dry.errors.single().row)
        val refused = store.importCsv(bad, false, null, false)
        assertEquals(0UL, refused.imported)
        assertEquals(0, store.listLeads(LeadQuery(sort = LeadSort.UPDATED)).items.size, "one bad row imports nothing")

        val good = "Name,Company,Email\nKim Minji,Acme,minji@acme.co.kr\n이준,한빛물류,jun@hanbit.kr\n".toByteArray()
        val done = store.importCsv(good, false, "KRW", false)
        assertEquals(2UL, done.imported)
        assertEquals(2, done.leadIds.size)
        assertEquals(setOf("Kim Minji", "이준"), done.leadIds.map { store.lead(it).name }.toSet())
        assertTrue(done.columns.any { it.startsWith("Email") }, done.columns.toString())
    }
}
