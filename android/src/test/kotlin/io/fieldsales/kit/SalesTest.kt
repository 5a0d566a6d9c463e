package io.fieldsales.kit

import io.fieldsales.kit.core.CompPlanDraft
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.core.Money
import io.fieldsales.kit.core.RequiredField
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.core.StagePatch
import io.fieldsales.kit.core.SubjectKind
import io.fieldsales.kit.core.TargetDraft
import io.fieldsales.kit.core.TargetMetric
import io.fieldsales.kit.core.Tier
import io.fieldsales.kit.core.Credentials
import io.fieldsales.kit.ffi.FieldStore
import io.fieldsales.kit.ffi.FieldsalesException
import io.fieldsales.kit.ffi.ReportPeriod
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File

/** The sales process, targets, plans and reports through the FFI: what a manager's and a rep's screens call. */
class SalesTest {
    @TempDir
    lateinit var dir: File

    private val stores = mutableListOf<FieldStore>()

    /** A store that never enrolled: no role is known locally, so nothing is restricted. */
    private fun open(user: String): FieldStore = FieldStore.open(File(dir, "$user.db").path, user, "KR").also { stores += it }

    @AfterEach
    fun close() = stores.forEach { it.close() }

    private fun krw(amount: Long) = Money(amountMinor = amount, currency = "KRW")

    @Test
    fun `a stage rule refuses a move without the field, and a renamed stage reads back with its name`() {
        val store = open("mgr-park")
        val defaults = store.salesSettings()
        assertEquals(Stage.values().size, defaults.stages.size)
        val proposal = defaults.stages.single { it.stage == Stage.PROPOSAL }
        assertEquals("proposal", proposal.name)
        assertEquals(6_000u, proposal.probabilityBp)
        assertEquals(emptyList<RequiredField>(), proposal.required)

        store.setStage(Stage.PROPOSAL, StagePatch(required = listOf(RequiredField.DEAL_VALUE)))
        val lead = store.createLead(LeadDraft(name = "김민지", company = "Acme Korea"))
        val e = assertThrows<FieldsalesException.Validation> { store.updateLead(lead.id, LeadPatch(stage = Stage.PROPOSAL)) }
        assertEquals("stage 'proposal' needs a deal value", e.message)
        assertEquals(Stage.NEW, store.lead(lead.id).stage, "nothing was written")

        val renamed = store.setStage(Stage.PROPOSAL, StagePatch(name = "  Quote sent ", probabilityBp = 5_000u))
        val e2 = assertThrows<FieldsalesException.Validation> { store.updateLead(lead.id, LeadPatch(stage = Stage.PROPOSAL)) }
        assertEquals("stage 'Quote sent' needs a deal value", e2.message)
        val moved = store.updateLead(lead.id, LeadPatch(stage = Stage.PROPOSAL, dealValue = krw(1_500_000)))
        assertEquals(Stage.PROPOSAL, moved.stage)

        val read = store.salesSettings()
        assertEquals(renamed, read)
        val p = read.stages.single { it.stage == Stage.PROPOSAL }
        assertEquals("Quote sent", p.name)
        assertEquals(5_000u, p.probabilityBp)
        assertEquals(listOf(RequiredField.DEAL_VALUE), p.required)
        assertEquals("contacted", read.stages.single { it.stage == Stage.CONTACTED }.name, "other stages untouched")

        val bad = assertThrows<FieldsalesException.Validation> { store.setStage(Stage.NEW, StagePatch(probabilityBp = 10_001u)) }
        assertEquals("win probability has an invalid value: at most 100%", bad.message)
    }

    @Test
    fun `a manager sets, lists and deletes targets and sets a plan, and a rep is refused`() {
        val store = open("mgr-park")
        val start = T0
        val end = T0 + 7 * DAY
        val t = store.setTarget(TargetDraft(subjectKind = SubjectKind.REP, subject = " rep-kim ", metric = TargetMetric.WON_VALUE,
            periodStart = start, periodEnd = end, value = 4_000_000, currency = "krw"))
        assertEquals("rep-kim", t.subject)
        assertEquals("KRW", t.currency)
        assertEquals("mgr-park", t.createdBy)
        val again = store.setTarget(TargetDraft(subjectKind = SubjectKind.REP, subject = "rep-kim", metric = TargetMetric.WON_VALUE,
            periodStart = start, periodEnd = end, value = 5_000_000, currency = "KRW"))
        assertEquals(t.id, again.id, "the same subject, metric and period: the same target")
        val team = store.setTarget(TargetDraft(subjectKind = SubjectKind.TEAM, subject = "seoul", metric = TargetMetric.DEALS_WON,
            periodStart = start, periodEnd = end, value = 10))
        assertEquals(listOf(t.id, team.id).sorted(), store.targets(start, end).map { it.id }.sorted())
        assertEquals(5_000_000L, store.targets(start, end).single { it.id == t.id }.value)
        assertEquals(emptyList<Any>(), store.targets(end, end + DAY), "no overlap")
        val noCurrency = assertThrows<FieldsalesException.Validation> {
            store.setTarget(TargetDraft(subjectKind = SubjectKind.REP, subject = "rep-kim", metric = TargetMetric.WON_VALUE,
                periodStart = start, periodEnd = end, value = 1))
        }
        assertEquals("target has an invalid value: a won value target needs a currency", noCurrency.message)

        assertTrue(store.deleteTarget(team.id).deleted)
        assertEquals(listOf(t.id), store.targets(start, end).map { it.id })
        assertThrows<FieldsalesException.NotFound> { store.deleteTarget("00000000-0000-4000-8000-000000000000") }

        val plan = store.setPlan(CompPlanDraft(rep = "rep-kim", base = krw(2_000_000), rateBp = 1_000u,
            tiers = listOf(Tier(fromBp = 15_000u, rateBp = 2_000u), Tier(fromBp = 10_000u, rateBp = 1_500u))))
        assertEquals(listOf(10_000u, 15_000u), plan.tiers.map { it.fromBp }, "sorted")
        val edited = store.setPlan(CompPlanDraft(rep = "rep-kim", base = krw(2_500_000), rateBp = 1_200u))
        assertEquals(plan.id, edited.id, "one plan per rep")
        assertEquals(listOf(edited), store.plans())
        assertEquals(emptyList<Tier>(), store.plans().single().tiers)

        // A rep's device, enrolled as a rep: the role is known locally and the core refuses.
        val rep = open("rep-kim")
        rep.saveCredentials(Credentials(server = "http://127.0.0.1:9", deviceId = "d1", token = "t", userId = "rep-kim",
            workspaceId = "w", role = "rep"))
        val f = assertThrows<FieldsalesException.Forbidden> {
            rep.setTarget(TargetDraft(subjectKind = SubjectKind.REP, subject = "rep-kim", metric = TargetMetric.DEALS_WON,
                periodStart = start, periodEnd = end, value = 99))
        }
        assertEquals("not allowed: only managers and admins may set targets", f.message)
        val s = assertThrows<FieldsalesException.Forbidden> { rep.setStage(Stage.WON, StagePatch(name = "Closed")) }
        assertEquals("not allowed: only managers and admins may change the sales process", s.message)
        assertThrows<FieldsalesException.Forbidden> { rep.setPlan(CompPlanDraft(rep = "rep-kim", base = krw(1), rateBp = 10_000u)) }
        assertEquals("won", rep.salesSettings().stages.single { it.stage == Stage.WON }.name, "reading is for everyone")
    }

    @Test
    fun `the team report and my report over a small fixture`() {
        val store = open("mgr-park")
        val now = System.currentTimeMillis()
        val start = now - DAY
        val end = now + DAY
        // rep-kim: won 3,000,000 and 2,000,000, lost one. rep-lee: won 1,000,000. mgr-park: lost one. One open.
        store.createLeads(listOf(
            LeadDraft(name = "A", owner = "rep-kim", stage = Stage.WON, dealValue = krw(3_000_000)),
            LeadDraft(name = "B", owner = "rep-kim", stage = Stage.WON, dealValue = krw(2_000_000)),
            LeadDraft(name = "C", owner = "rep-kim", stage = Stage.LOST, lostReason = "price"),
            LeadDraft(name = "D", owner = "rep-lee", stage = Stage.WON, dealValue = krw(1_000_000)),
            LeadDraft(name = "E", stage = Stage.LOST),
            LeadDraft(name = "F", owner = "rep-lee", stage = Stage.PROPOSAL, dealValue = krw(500_000)),
        ))
        // Quota 4,000,000 for exactly the report's period; the team target counts deals won.
        store.setTarget(TargetDraft(subjectKind = SubjectKind.REP, subject = "rep-kim", metric = TargetMetric.WON_VALUE,
            periodStart = start, periodEnd = end, value = 4_000_000, currency = "KRW"))
        store.setTarget(TargetDraft(subjectKind = SubjectKind.TEAM, subject = "seoul", metric = TargetMetric.DEALS_WON,
            periodStart = start, periodEnd = end, value = 4))
        // 10 % up to the quota, 15 % above it.
        store.setPlan(CompPlanDraft(rep = "rep-kim", base = krw(2_000_000), rateBp = 1_000u, tiers = listOf(Tier(fromBp = 10_000u, rateBp = 1_500u))))

        val r = store.teamReport(ReportPeriod.Custom(startMs = start, endMs = end), now, "Asia/Seoul")
        assertEquals(start, r.period.start)
        assertEquals(end, r.period.end)
        // Team: 3 won, 2 lost → 3 / 5 = 60 %.
        assertEquals(3u, r.team.winRate.won)
        assertEquals(2u, r.team.winRate.lost)
        assertEquals(0.6, r.team.winRate.rate!!, 1e-9)
        assertEquals(6u, r.team.captured)
        assertEquals(listOf(krw(6_000_000)), r.team.wonValue)
        assertEquals(listOf("mgr-park", "rep-kim", "rep-lee"), r.reps.map { it.owner })
        val kim = r.reps.single { it.owner == "rep-kim" }.figures
        assertEquals(2u, kim.winRate.won)
        assertEquals(1u, kim.winRate.lost)
        assertEquals(2.0 / 3.0, kim.winRate.rate!!, 1e-9)
        assertEquals(1.0, r.reps.single { it.owner == "rep-lee" }.figures.winRate.rate!!, 1e-9)
        // Weighted pipeline with the workspace's probability: 500,000 × 60 % = 300,000.
        val proposal = r.team.pipeline.single { it.stage == Stage.PROPOSAL }
        assertEquals(1u, proposal.leads)
        assertEquals(listOf(krw(300_000)), proposal.weighted)
        assertEquals(Stage.values().size, r.stages.size)

        // Attainment: 5,000,000 of 4,000,000 = 125 %; half the period elapsed → 2,000,000 expected, pace 250 %.
        val quota = r.attainment.single { it.target.metric == TargetMetric.WON_VALUE }
        assertEquals(5_000_000L, quota.progress.actual)
        assertEquals(12_500L, quota.progress.attainmentBp)
        assertEquals(5_000L, quota.progress.elapsedBp)
        assertEquals(2_000_000L, quota.progress.expected)
        assertEquals(25_000L, quota.progress.paceBp)
        // The team target: 3 of 4 deals = 75 %.
        assertEquals(7_500L, r.attainment.single { it.target.metric == TargetMetric.DEALS_WON }.progress.attainmentBp)

        // Commission: 4,000,000 × 10 % + 1,000,000 × 15 % = 400,000 + 150,000 = 550,000 KRW.
        val c = r.commission.single()
        assertEquals("rep-kim", c.rep)
        assertEquals(krw(2_000_000), c.base)
        assertEquals(listOf(krw(4_000_000)), c.quota)
        assertEquals(listOf(krw(5_000_000)), c.wonValue)
        assertEquals(listOf(krw(550_000)), c.commission)
        assertEquals(2, c.deals.size)
        assertEquals(3, c.deals.sumOf { it.parts.size }, "one deal straddles the quota")
        c.deals.forEach { d -> assertEquals(d.amount, d.parts.sumOf { it.amount }) }
        assertEquals(1_000_000L, c.deals.flatMap { it.parts }.filter { it.rateBp == 1_500u }.sumOf { it.amount })

        // My report: the manager's own lead only; neither the team's nor kim's targets and plan.
        val mine = store.myReport(ReportPeriod.Custom(startMs = start, endMs = end), now, "Asia/Seoul")
        assertEquals(0u, mine.team.winRate.won)
        assertEquals(1u, mine.team.winRate.lost)
        assertEquals(0.0, mine.team.winRate.rate!!, 1e-9)
        assertEquals(listOf("mgr-park"), mine.reps.map { it.owner })
        assertEquals(emptyList<Any>(), mine.attainment)
        assertEquals(emptyList<Any>(), mine.commission)

        // Calendar periods: the local week of T0 (a Monday 09:00 UTC = 18:00 in Seoul) starts that Monday 00:00 KST.
        val week = store.teamReport(ReportPeriod.Week, T0, "Asia/Seoul")
        assertEquals(T0 - 18 * HOUR, week.period.start)
        assertEquals(7 * DAY, week.period.end - week.period.start)
        assertNull(week.team.winRate.rate, "nothing closed that week")
        val month = store.myReport(ReportPeriod.Month, T0, "UTC").period
        assertEquals(T0 - DAY - 9 * HOUR, month.start, "2026-11-01 00:00 UTC")
        assertEquals(30 * DAY, month.end - month.start)
        val badRange = assertThrows<FieldsalesException.Validation> { store.teamReport(ReportPeriod.Custom(startMs = end, endMs = start), now, "UTC") }
        assertEquals("period has an invalid value: the end must be after the start", badRange.message)
    }

    private companion object {
        const val HOUR = 3_600_000L
        const val DAY = 24 * HOUR
    }
}
