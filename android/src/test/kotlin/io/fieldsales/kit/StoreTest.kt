package io.fieldsales.kit

import io.fieldsales.kit.core.ActivityDraft
import io.fieldsales.kit.core.ActivityKind
import io.fieldsales.kit.core.CaptureChannel
import io.fieldsales.kit.core.CustomField
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadField
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.core.Location
import io.fieldsales.kit.core.Money
import io.fieldsales.kit.core.Potential
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.ffi.ChangeListener
import io.fieldsales.kit.core.ChangedRecords
import io.fieldsales.kit.ffi.FieldStore
import io.fieldsales.kit.ffi.FieldsalesException
import io.fieldsales.kit.ffi.RecordKind
import io.fieldsales.kit.ffi.RemoteDocument
import io.fieldsales.kit.ffi.RemotePayload
import io.fieldsales.kit.ffi.formatMoney
import io.fieldsales.kit.ffi.parseMoney
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.util.Collections
import java.util.UUID
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

class StoreTest {
    @TempDir
    lateinit var dir: File

    private val opened = mutableListOf<AutoCloseable>()

    private fun <T : AutoCloseable> T.closing(): T = also { opened += it }

    @AfterEach
    fun closeAll() = opened.reversed().forEach { it.close() }

    private fun kit(name: String = "rep.db", user: String = "rep-kim"): FieldSalesKit =
        runBlocking { FieldSalesKit.open(File(dir, name).path, user, "KR") }.closing()

    @Test
    fun `opens a store in a temp dir and refuses another user's file`(): Unit = runBlocking {
        val kit = kit()
        assertEquals("rep-kim", kit.userId)
        assertEquals("KR", kit.store.region())
        assertTrue(kit.store.actorId().matches(Regex("[0-9a-f]{32}")), kit.store.actorId())
        assertTrue(File(dir, "rep.db").isFile)
        assertEquals(emptyList<Any>(), kit.listLeads().items)
        assertFalse(kit.isEnrolled)

        val e = assertThrows<FieldsalesException.WrongUser> { FieldStore.open(File(dir, "rep.db").path, "rep-lee", "KR") }
        assertTrue(e.message!!.contains("belongs to user 'rep-kim'"), e.message)
        val r = assertThrows<FieldsalesException.Validation> { FieldStore.open(File(dir, "other.db").path, "rep-kim", "Atlantis") }
        assertTrue(r.message!!.contains("'Atlantis' is not a known region code"), r.message)
    }

    @Test
    fun `captures a lead with every field type, Korean name and emoji notes`(): Unit = runBlocking {
        val kit = kit()
        val notes = "명함 교환 🤝 at booth B12 🚀 — follow up re: 2 pallets"
        val lead = kit.createLead(
            LeadDraft(
                name = "  김민지  ",
                company = "Acme Korea",
                title = "구매 담당",
                emails = listOf("MinJi@Acme.co.kr"),
                phones = listOf("010-1234-5678"),
                event = "Seoul Expo 2026",
                channel = CaptureChannel.BUSINESS_CARD,
                stage = Stage.QUALIFIED,
                potential = Potential.HOT,
                dealValue = parseMoney("1,500,000", "krw"),
                tags = listOf("expo", "vip"),
                notes = notes,
                customFields = listOf(CustomField("booth", "B12"), CustomField("badge", "A-0042")),
                nextFollowUp = T0 + 86_400_000,
            ),
        )
        val read = kit.lead(lead.id)
        assertEquals(lead, read)
        assertEquals("김민지", read.name)
        assertEquals("Acme Korea", read.company)
        assertEquals("구매 담당", read.title)
        assertEquals(listOf("minji@acme.co.kr"), read.emails)
        assertEquals(listOf("+821012345678"), read.phones)
        assertEquals("Seoul Expo 2026", read.source.event)
        assertEquals(CaptureChannel.BUSINESS_CARD, read.source.channel)
        assertEquals(Stage.QUALIFIED, read.stage)
        assertEquals(Potential.HOT, read.potential)
        assertEquals(Money(1_500_000L, "KRW"), read.dealValue)
        assertEquals("1,500,000 KRW", formatMoney(read.dealValue!!))
        assertEquals("rep-kim", read.owner)
        assertEquals(listOf("expo", "vip"), read.tags)
        assertEquals(notes, read.notes)
        assertEquals(listOf(CustomField("badge", "A-0042"), CustomField("booth", "B12")), read.customFields)
        assertEquals(T0 + 86_400_000, read.nextFollowUp)
        assertEquals(listOf(Stage.QUALIFIED), read.stageHistory.map { it.stage })
        assertFalse(read.deleted)
        assertTrue(read.conflicts.isEmpty())

        val row = kit.listLeads().items.single()
        assertEquals("김민지", row.displayName)
        assertEquals("minji@acme.co.kr", row.email)
        assertEquals("+821012345678", row.phone)
        assertEquals(Money(1_500_000L, "KRW"), row.dealValue)

        // A lost lead with its reason, and an activity with every field (location doubles, duration).
        val lost = kit.createLead(LeadDraft(company = "Beta Ltd", stage = Stage.LOST, lostReason = "budget cut 💸"))
        assertEquals("budget cut 💸", lost.lostReason)
        val visit = kit.addActivity(
            ActivityDraft(
                leadId = lead.id, kind = ActivityKind.VISIT, subject = "공장 방문 🏭", notes = "met the plant manager",
                occurredAt = T0, durationS = 5_400L, outcome = "sample order",
                location = Location(lat = 37.5665, lon = 126.9780, accuracyM = 12.5),
            ),
        )
        val back = kit.store.activity(visit.id)
        assertEquals(Location(37.5665, 126.9780, 12.5), back.location)
        assertEquals(5_400L, back.durationS)
        assertEquals("공장 방문 🏭", back.subject)
        assertEquals(T0, back.occurredAt)
        assertTrue(back.done)
    }

    @Test
    fun `lists, filters, pages, searches and shows detail with activities`(): Unit = runBlocking {
        val kit = kit()
        val kim = kit.createLead(LeadDraft(name = "김철수", company = "Acme", stage = Stage.NEW, tags = listOf("expo"), event = "Seoul Expo"))
        val lee = kit.createLead(LeadDraft(name = "이영희", company = "Globex", stage = Stage.PROPOSAL, potential = Potential.WARM))
        val park = kit.createLead(LeadDraft(name = "Park Ji-sung", company = "Acme Logistics", stage = Stage.NEW, tags = listOf("expo")))
        kit.createLead(LeadDraft(company = "Initech", stage = Stage.WON))

        assertEquals(4, kit.listLeads().items.size)
        assertEquals(setOf(kim.id, park.id), kit.listLeads(LeadQuery(stages = listOf(Stage.NEW), sort = LeadSort.UPDATED)).items.map { it.id }.toSet())
        assertEquals(listOf(lee.id), kit.listLeads(LeadQuery(potential = Potential.WARM, sort = LeadSort.UPDATED)).items.map { it.id })
        assertEquals(setOf(kim.id, park.id), kit.listLeads(LeadQuery(tag = "expo", sort = LeadSort.UPDATED)).items.map { it.id }.toSet())
        assertEquals(listOf(kim.id), kit.listLeads(LeadQuery(event = "Seoul Expo", sort = LeadSort.UPDATED)).items.map { it.id })

        // Keyset paging by name, A→Z: two pages of two, then nothing.
        val first = kit.listLeads(LeadQuery(sort = LeadSort.NAME, limit = 2u))
        assertEquals(listOf("Initech", "Park Ji-sung"), first.items.map { it.displayName })
        assertNotNull(first.next)
        val second = kit.listLeads(LeadQuery(sort = LeadSort.NAME, limit = 2u, after = first.next))
        assertEquals(listOf("김철수", "이영희"), second.items.map { it.displayName })
        assertNull(second.next)
        assertThrows<FieldsalesException.InvalidData> { kit.listLeads(LeadQuery(sort = LeadSort.NAME, after = "zz")) }

        // Prefix search: Korean two-syllable prefix, Latin prefix, company words.
        assertEquals(listOf(kim.id), kit.searchLeads("김철").map { it.id })
        assertEquals(setOf(kim.id, park.id), kit.searchLeads("acm").map { it.id }.toSet())
        assertEquals(listOf(park.id), kit.searchLeads("acme logi").map { it.id })
        assertTrue(kit.searchLeads("nobody").isEmpty())

        // Detail: activities newest first; completing a task; a task due in the past is overdue.
        val call = kit.addActivity(ActivityDraft(leadId = kim.id, kind = ActivityKind.CALL, subject = "Intro call", occurredAt = T0))
        val task = kit.addActivity(ActivityDraft(leadId = kim.id, kind = ActivityKind.TASK, subject = "Send quote", dueAt = T0 + 3_600_000))
        assertFalse(task.done)
        assertEquals(listOf(task.id), kit.store.reminders(T0, 10u).map { it.activityId })
        assertEquals(listOf(task.id), kit.followUps(nowMs = T0 - 2 * 86_400_000, timeZone = "Asia/Seoul").upcoming.map { it.activityId })
        val detail = kit.leadDetail(kim.id)
        assertEquals(kim.id, detail.lead.id)
        assertEquals(listOf(task.id, call.id), detail.activities.map { it.id })
        val due = kit.followUps(nowMs = T0 + 7_200_000, timeZone = "Asia/Seoul")
        assertEquals(listOf(task.id), due.overdue.map { it.activityId })
        assertEquals("김철수", due.overdue.single().leadName)
        assertTrue(kit.completeActivity(task.id).done)
        assertTrue(kit.followUps(nowMs = T0 + 7_200_000, timeZone = "Asia/Seoul").overdue.isEmpty())
        kit.deleteActivity(call.id)
        assertEquals(listOf(task.id), kit.leadDetail(kim.id).activities.map { it.id })

        // Edit, clear, delete to the bin, restore.
        val edited = kit.updateLead(lee.id, LeadPatch(stage = Stage.NEGOTIATION, addTags = listOf("q4"), clear = listOf(LeadField.POTENTIAL)))
        assertEquals(Stage.NEGOTIATION, edited.stage)
        assertNull(edited.potential)
        assertEquals(listOf("q4"), edited.tags)
        assertEquals(listOf(Stage.PROPOSAL, Stage.NEGOTIATION), edited.stageHistory.map { it.stage })
        assertTrue(kit.deleteLead(lee.id).deleted)
        assertFalse(kit.listLeads().items.any { it.id == lee.id })
        assertEquals(listOf(lee.id), kit.listLeads(LeadQuery(deleted = true, sort = LeadSort.UPDATED)).items.map { it.id })
        assertFalse(kit.restoreLead(lee.id).deleted)
        assertTrue(kit.listLeads().items.any { it.id == lee.id })
    }

    @Test
    fun `a second store's concurrent edit merges into a conflict`(): Unit = runBlocking {
        val phone = kit("phone.db")
        val tablet = kit("tablet.db")
        val lead = phone.createLead(LeadDraft(name = "김민지", company = "Acme", notes = "hello"))
        fun snapshot(from: FieldSalesKit) = RemoteDocument(lead.id, RecordKind.LEAD, RemotePayload.Snapshot(from.store.documentBytes(lead.id)))

        val report = tablet.store.applyRemote(listOf(snapshot(phone)))
        assertEquals(listOf(lead.id), report.changed.leads)
        assertEquals("Acme", tablet.lead(lead.id).company)

        // Both edit the company offline; notes are edited on both too (text merges, no conflict).
        phone.updateLead(lead.id, LeadPatch(company = "Acme Korea", notes = "hello from the phone"))
        tablet.updateLead(lead.id, LeadPatch(company = "ACME Seoul"))
        phone.store.applyRemote(listOf(snapshot(tablet)))
        tablet.store.applyRemote(listOf(snapshot(phone)))

        val onPhone = phone.lead(lead.id)
        val onTablet = tablet.lead(lead.id)
        assertEquals(onPhone.company, onTablet.company, "every replica shows the same winner")
        val conflict = onPhone.conflicts.single { it.field == "company" }
        assertEquals(setOf("Acme Korea", "ACME Seoul"), conflict.values.toSet())
        assertEquals(onPhone.company, conflict.values.first())
        assertEquals(onPhone.conflicts, onTablet.conflicts)
        assertEquals("hello from the phone", onTablet.notes)
        assertTrue(phone.listLeads().items.single().hasConflicts)

        // Writing the field again resolves it.
        val resolved = phone.updateLead(lead.id, LeadPatch(company = "Acme Korea"))
        assertTrue(resolved.conflicts.none { it.field == "company" })
        assertTrue(phone.store.verify().ok)

        // Malformed bytes are refused whole, as a typed error.
        val bad = RemoteDocument(UUID.randomUUID().toString(), RecordKind.LEAD, RemotePayload.Snapshot(byteArrayOf(1, 2, 3)))
        assertThrows<FieldsalesException.InvalidData> { tablet.store.applyRemote(listOf(bad)) }
    }

    @Test
    fun `validation errors surface as typed exceptions with readable messages`(): Unit = runBlocking {
        val kit = kit()
        val empty = assertThrows<FieldsalesException.Validation> { kit.createLead(LeadDraft()) }
        assertEquals("a lead needs at least a name, a company, an e-mail address or a phone number", empty.message)
        val email = assertThrows<FieldsalesException.Validation> { kit.createLead(LeadDraft(name = "x", emails = listOf("not-an-email"))) }
        assertEquals("'not-an-email' is not a valid e-mail address", email.message)
        val phone = assertThrows<FieldsalesException.Validation> { kit.createLead(LeadDraft(name = "x", phones = listOf("12"))) }
        assertEquals("'12' is not a valid phone number (default region KR)", phone.message)
        val money = assertThrows<FieldsalesException.Validation> { parseMoney("1500.5", "KRW") }
        assertTrue(money.message!!.contains("KRW has no decimal places"), money.message)
        // Nothing was written.
        assertTrue(kit.listLeads().items.isEmpty())

        val missing = UUID.randomUUID().toString()
        val nf = assertThrows<FieldsalesException.NotFound> { kit.lead(missing) }
        assertEquals("lead $missing was not found", nf.message)
        assertThrows<FieldsalesException.Validation> { kit.lead("not-an-id") }
        val lead = kit.createLead(LeadDraft(name = "x", id = missing))
        assertEquals(missing, lead.id)
        assertThrows<FieldsalesException.AlreadyExists> { kit.createLead(LeadDraft(name = "y", id = missing)) }
        // All of them are FieldsalesException, so one catch covers every call.
        val any: FieldsalesException = assertThrows<FieldsalesException> { kit.addActivity(ActivityDraft(leadId = UUID.randomUUID().toString(), kind = ActivityKind.CALL, subject = "x")) }
        assertTrue(any is FieldsalesException.NotFound, any.toString())
    }

    @Test
    fun `the change observer fires after a write and the lead Flow follows it`(): Unit = runBlocking {
        val kit = kit()
        val seen = Collections.synchronizedList(mutableListOf<ChangedRecords>())
        val latch = CountDownLatch(1)
        val handle = kit.store.addObserver(object : ChangeListener {
            override fun onChange(changed: ChangedRecords) {
                seen += changed
                latch.countDown()
            }
        })
        val lead = kit.createLead(LeadDraft(name = "김민지"))
        assertTrue(latch.await(5, TimeUnit.SECONDS), "observer was not called")
        assertEquals(listOf(lead.id), seen.single().leads)

        val a = kit.addActivity(ActivityDraft(leadId = lead.id, kind = ActivityKind.NOTE, subject = "note"))
        assertEquals(listOf(a.id), seen.last().activities)
        kit.updateLead(lead.id, LeadPatch(name = "김민지")) // changes nothing: no notification
        assertEquals(2, seen.size)

        kit.store.removeObserver(handle)
        kit.updateLead(lead.id, LeadPatch(company = "Acme"))
        assertEquals(2, seen.size, "a removed observer is not called")

        // A listener that throws does not fail the write.
        val bad = kit.store.addObserver(object : ChangeListener {
            override fun onChange(changed: ChangedRecords) = throw IllegalStateException("boom")
        })
        assertEquals("Acme Seoul", kit.updateLead(lead.id, LeadPatch(company = "Acme Seoul")).company)
        kit.store.removeObserver(bad)

        // The Flow: the current list first, then the list after the next write.
        withTimeout(10_000) {
            val firstSeen = CompletableDeferred<Unit>()
            val lists = async { kit.leads().take(2).onEach { firstSeen.complete(Unit) }.toList() }
            firstSeen.await()
            kit.createLead(LeadDraft(name = "이영희"))
            val got = lists.await().map { l -> l.map { it.displayName }.toSet() }
            assertEquals(listOf(setOf("김민지"), setOf("김민지", "이영희")), got)
        }
    }
}
