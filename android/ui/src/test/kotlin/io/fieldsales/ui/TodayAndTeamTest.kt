package io.fieldsales.ui

import androidx.compose.ui.test.assertTextContains
import androidx.compose.ui.test.assertTextEquals
import androidx.compose.ui.test.hasAnyAncestor
import androidx.compose.ui.test.hasTestTag
import androidx.compose.ui.test.junit4.createComposeRule
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.performClick
import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.kit.core.ActivityDraft
import io.fieldsales.kit.core.ActivityKind
import io.fieldsales.kit.core.CompPlanDraft
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.core.Money
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.core.SubjectKind
import io.fieldsales.kit.core.TargetDraft
import io.fieldsales.kit.core.TargetMetric
import io.fieldsales.ui.i18n.Formats
import io.fieldsales.ui.screens.TeamScreen
import io.fieldsales.ui.screens.TodayScreen
import io.fieldsales.ui.state.TeamState
import io.fieldsales.ui.state.TodayState
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Rule
import org.junit.Test
import java.time.ZoneId
import java.time.ZonedDateTime

class TodayAndTeamTest {
    @get:Rule val rule = createComposeRule()

    private fun at(s: String) = ZonedDateTime.parse(s).toInstant().toEpochMilli()

    @Test
    fun `today lists overdue, due today and upcoming in the rep's time zone`() {
        val kit = openKit(tempDir(), "rep-kim")
        val now = at("2026-11-02T10:00+09:00[Asia/Seoul]")
        runBlocking {
            val a = kit.createLead(LeadDraft(name = "김민지", nextFollowUp = at("2026-11-01T09:00+09:00[Asia/Seoul]")))
            val b = kit.createLead(LeadDraft(name = "이서준"))
            kit.addActivity(ActivityDraft(leadId = b.id, kind = ActivityKind.TASK, subject = "견적 보내기", dueAt = at("2026-11-02T15:00+09:00[Asia/Seoul]"), done = false))
            // 23:30 UTC on the 2nd is 08:30 on the 3rd in Seoul: today in London, tomorrow in Seoul.
            kit.createLead(LeadDraft(name = "박지훈", nextFollowUp = at("2026-11-02T23:30Z")))
            kit.createLead(LeadDraft(name = "최유나", nextFollowUp = at("2026-11-05T09:00+09:00[Asia/Seoul]")))
            a.id
        }
        val seoul = TodayState(session(kit, SEOUL) { now }, testScope()).also { it.start() }
        rule.setContent { Themed(KO, zone = SEOUL) { TodayScreen(seoul, onOpen = {}) } }
        rule.await("loaded") { !seoul.ui.value.loading }
        val f = seoul.ui.value.followUps
        assertEquals(listOf("김민지"), f.overdue.map { it.leadName })
        assertEquals(listOf("이서준"), f.today.map { it.leadName })
        assertEquals(listOf("박지훈", "최유나"), f.upcoming.map { it.leadName })
        rule.onNodeWithTag("today.overdue").assertTextEquals("기한 지남 (1)")
        rule.onNodeWithTag("today.today").assertTextEquals("오늘 (1)")
        rule.onNodeWithTag("today.upcoming").assertTextEquals("앞으로 7일 (2)")
        rule.onNodeWithTag("today.date").assertTextEquals(Formats(KO, SEOUL).localDate(java.time.LocalDate.of(2026, 11, 2)))
        rule.assertAccessible("today")
        val task = f.today.single()
        rule.onNodeWithTag("followup.${task.activityId}.done").performClick()
        rule.await("task done") { seoul.ui.value.followUps.today.isEmpty() }

        val london = TodayState(session(kit, ZoneId.of("Europe/London")) { now }, testScope()).also { it.start() }
        rule.setContent { Themed(EN, zone = ZoneId.of("Europe/London")) { TodayScreen(london, onOpen = {}) } }
        rule.await("loaded") { !london.ui.value.loading }
        assertEquals(listOf("박지훈"), london.ui.value.followUps.today.map { it.leadName })
    }

    @Test
    fun `the team screen shows the figures of a seeded store, computed here independently`() {
        val kit = openKit(tempDir(), "manager")
        val krw = { a: Long -> Money(a, "KRW") }
        data class Seed(val owner: String, val stage: Stage, val value: Long?)
        val seeds = listOf(
            Seed("rep-kim", Stage.WON, 1_000_000), Seed("rep-kim", Stage.WON, 3_000_000), Seed("rep-kim", Stage.LOST, null),
            Seed("rep-kim", Stage.PROPOSAL, 2_000_000), Seed("rep-kim", Stage.NEW, 500_000),
            Seed("rep-lee", Stage.WON, 2_000_000), Seed("rep-lee", Stage.NEGOTIATION, 4_000_000), Seed("rep-lee", Stage.CONTACTED, null),
        )
        runBlocking {
            for ((i, s) in seeds.withIndex()) {
                val l = kit.createLead(LeadDraft(name = "리드 $i", owner = s.owner, dealValue = s.value?.let(krw)))
                if (s.stage != Stage.NEW) kit.updateLead(l.id, LeadPatch(stage = s.stage))
            }
        }
        val now = System.currentTimeMillis()
        val month = ZonedDateTime.ofInstant(java.time.Instant.ofEpochMilli(now), SEOUL).toLocalDate().withDayOfMonth(1)
        val start = month.atStartOfDay(SEOUL).toInstant().toEpochMilli()
        val end = month.plusMonths(1).atStartOfDay(SEOUL).toInstant().toEpochMilli()
        val target = kit.store.setTarget(TargetDraft(null, SubjectKind.REP, "rep-kim", TargetMetric.DEALS_WON, start, end, 4, null))
        kit.store.setPlan(CompPlanDraft("rep-kim", krw(3_000_000), 500u, emptyList()))

        // The figures, worked out here from the seeds alone.
        val won = seeds.count { it.stage == Stage.WON }
        val lost = seeds.count { it.stage == Stage.LOST }
        val winRate = won.toDouble() / (won + lost)
        val wonValue = seeds.filter { it.stage == Stage.WON }.sumOf { it.value ?: 0 }
        val bp = kit.store.salesSettings().stages.associate { it.stage to it.probabilityBp.toLong() }
        val open = listOf(Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION)
        val raw = open.associateWith { st -> seeds.filter { it.stage == st }.sumOf { it.value ?: 0 } }
        val weighted = open.associateWith { st -> seeds.filter { it.stage == st }.sumOf { (it.value ?: 0) * bp.getValue(st) / 10_000 } }
        val kimWon = seeds.count { it.owner == "rep-kim" && it.stage == Stage.WON }
        val kimCommission = seeds.filter { it.owner == "rep-kim" && it.stage == Stage.WON }.sumOf { it.value ?: 0 } * 500 / 10_000

        val team = TeamState(session(kit, SEOUL) { now }, testScope()).also { it.start() }
        val fmt = Formats(EN, SEOUL)
        rule.setContent { Themed(EN) { TeamScreen(team) } }
        rule.await("the report") { team.ui.value.report != null }
        rule.onNodeWithTag("team.winRate.value", useUnmergedTree = true).assertTextEquals(fmt.percent(winRate))
        rule.onNodeWithTag("team.won.value", useUnmergedTree = true).assertTextEquals(won.toString())
        rule.onNodeWithTag("team.lost.value", useUnmergedTree = true).assertTextEquals(lost.toString())
        rule.onNodeWithTag("team.captured.value", useUnmergedTree = true).assertTextEquals(seeds.size.toString())
        rule.onNodeWithTag("team.wonValue.KRW.value", useUnmergedTree = true).assertTextEquals(fmt.money(wonValue, "KRW"))
        // Nothing last month: every change is the figure itself, and the rate has none.
        rule.onNodeWithTag("team.won.change", useUnmergedTree = true).assertTextEquals("+$won vs previous")
        rule.onNodeWithTag("team.wonValue.KRW.change", useUnmergedTree = true).assertTextEquals("+" + fmt.money(wonValue, "KRW") + " vs previous")
        rule.onNodeWithTag("team.winRate.change", useUnmergedTree = true).assertTextEquals("no previous figure")
        for (st in open) {
            val tag = "team.pipeline.${st.name.lowercase()}"
            rule.onNodeWithTag("$tag.value", useUnmergedTree = true).assertTextEquals(if (raw.getValue(st) == 0L) "—" else fmt.money(raw.getValue(st), "KRW"))
            rule.onNodeWithTag("$tag.weighted", useUnmergedTree = true).assertTextEquals(if (raw.getValue(st) == 0L) "—" else fmt.money(weighted.getValue(st), "KRW"))
        }
        rule.onNodeWithTag("team.target.${target.id}.text", useUnmergedTree = true)
            .assertTextContains("$kimWon of 4 (${fmt.bp(kimWon * 10_000L / 4)})", substring = true)
        rule.onNodeWithTag("team.rep.rep-kim.commission.KRW.value", useUnmergedTree = true).assertTextEquals(fmt.money(kimCommission, "KRW"))
        rule.onNodeWithTag("team.rep.rep-lee.won.value", useUnmergedTree = true).assertTextEquals("1")
        rule.assertAccessible("team")
        rule.onNodeWithTag("team.period.quarter").performClick()
        rule.await("the quarter") { team.ui.value.report?.current?.period?.let { it.end - it.start > 80L * 86_400_000 } == true }
        rule.onNodeWithTag("team.won.value", useUnmergedTree = true).assertTextEquals(won.toString())
    }
}
