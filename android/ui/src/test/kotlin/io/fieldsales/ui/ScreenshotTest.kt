package io.fieldsales.ui

import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.ui.ImageComposeScene
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalDensity
import androidx.compose.ui.unit.Density
import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.kit.core.ActivityDraft
import io.fieldsales.kit.core.ActivityKind
import io.fieldsales.kit.core.CompPlanDraft
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.core.Money
import io.fieldsales.kit.core.Potential
import io.fieldsales.kit.core.RequiredField
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.core.StagePatch
import io.fieldsales.kit.core.SubjectKind
import io.fieldsales.kit.core.TargetDraft
import io.fieldsales.kit.core.TargetMetric
import io.fieldsales.kit.ffi.RecordKind
import io.fieldsales.kit.ffi.RemoteDocument
import io.fieldsales.kit.ffi.RemotePayload
import io.fieldsales.ui.i18n.Formats
import io.fieldsales.ui.i18n.XmlText
import io.fieldsales.ui.screens.AppShell
import io.fieldsales.ui.screens.EnrollScreen
import io.fieldsales.ui.screens.FieldsalesTheme
import io.fieldsales.ui.screens.LeadDetailScreen
import io.fieldsales.ui.state.AppState
import io.fieldsales.ui.state.CaptureForm
import io.fieldsales.ui.state.EnrollState
import io.fieldsales.ui.state.LeadDetailState
import io.fieldsales.ui.state.Tab
import io.fieldsales.ui.state.TeamState
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.jetbrains.skia.EncodedImageFormat
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File
import java.time.ZonedDateTime
import java.util.Locale

/**
 * A PNG of every screen, with Korean and with English data, light and dark, and the capture
 * form at 200 % font scale, into `fieldsales.screens` (docs/screens/ holds a reviewed copy).
 * Rendered offscreen at a phone's size (400 × 860 dp at 1.5×).
 */
class ScreenshotTest {
    private val dir = File(System.getProperty("fieldsales.screens") ?: "target/screens").apply { mkdirs() }

    private class Words(
        val reps: List<String>, val names: List<String>, val companies: List<String>, val events: List<String>,
        val tags: List<String>, val subjects: List<String>, val conflictCompany: Pair<String, String>,
    )

    private val ko = Words(
        listOf("rep-kim", "rep-lee", "rep-park"),
        listOf("김민지", "이서준", "박지훈", "최유나", "정하늘", "강도윤", "윤서아", "장민호", "한지우", "오세영", "신예린", "서준호"),
        listOf("에이크미 코리아", "한빛시스템", "대한물산", "서울바이오", "누리테크"),
        listOf("서울 국제 박람회", "부산 산업전"), listOf("전시회", "재방문", "VIP"),
        listOf("첫 통화", "견적 설명 미팅", "공장 방문"), "에이크미 코리아 본사" to "에이크미 서울지사",
    )
    private val en = Words(
        listOf("rep-emma", "rep-liam", "rep-noah"),
        listOf("Emma Clarke", "Liam Turner", "Olivia Bennett", "Noah Hughes", "Ava Foster", "Mason Reid", "Sophia Grant", "Lucas Hayes", "Mia Porter", "Ethan Cole", "Isla Ward", "Leo Brooks"),
        listOf("Northwind Traders", "Contoso Ltd", "Fabrikam Inc", "Tailspin Toys", "Wide World Importers"),
        listOf("London Trade Expo", "Berlin Tech Fair"), listOf("expo", "revisit", "VIP"),
        listOf("Intro call", "Quote walkthrough", "Site visit"), "Northwind Traders Ltd" to "Northwind UK",
    )

    /** A rep's store with a realistic booth day: stages, potentials, events, tags, a conflict, a task. */
    private fun seedRep(kit: FieldSalesKit, w: Words, twin: FieldSalesKit): String = runBlocking {
        val stages = listOf(Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION, Stage.WON)
        var first = ""
        for ((i, name) in w.names.withIndex()) {
            val l = kit.createLead(LeadDraft(
                name = name, company = w.companies[i % w.companies.size], event = w.events[i % 2],
                phones = listOf("010-%04d-%04d".format(1000 + i * 7, 2000 + i * 13)),
                emails = listOf("contact$i@example.com"),
                potential = listOf(Potential.HOT, Potential.WARM, Potential.COLD, null)[i % 4],
                tags = listOf(w.tags[i % 3]),
                dealValue = if (i % 3 == 2) null else Money(1_500_000L + i * 250_000L, "KRW"),
            ))
            val st = stages[i % stages.size]
            if (st != Stage.NEW) kit.updateLead(l.id, LeadPatch(stage = st))
            if (i == 0) first = l.id
        }
        val now = System.currentTimeMillis()
        kit.addActivity(ActivityDraft(leadId = first, kind = ActivityKind.CALL, subject = w.subjects[0], durationS = 300))
        kit.addActivity(ActivityDraft(leadId = first, kind = ActivityKind.MEETING, subject = w.subjects[1]))
        kit.addActivity(ActivityDraft(leadId = first, kind = ActivityKind.TASK, subject = w.subjects[2], dueAt = now + 3_600_000, done = false))
        kit.updateLead(first, LeadPatch(nextFollowUp = now - 86_400_000))
        // A day's worth of follow-ups for Today: overdue, later today, this week.
        val leads = kit.store.listPage(io.fieldsales.kit.core.LeadQuery(sort = io.fieldsales.kit.core.LeadSort.CREATED, limit = 12u)).items.map { it.summary.id }
        for ((k, id) in leads.drop(1).take(6).withIndex()) kit.updateLead(id, LeadPatch(nextFollowUp = now + (k - 1) * 20 * 3_600_000L))
        kit.addActivity(ActivityDraft(leadId = leads[3], kind = ActivityKind.TASK, subject = w.subjects[1], dueAt = now + 2 * 3_600_000, done = false))
        // The rep's tablet changed the company at the same time: a conflict on the first lead.
        fun snapshot(from: FieldSalesKit) = RemoteDocument(first, RecordKind.LEAD, RemotePayload.Snapshot(from.store.documentBytes(first)))
        twin.store.applyRemote(listOf(snapshot(kit)))
        twin.updateLead(first, LeadPatch(company = w.conflictCompany.second))
        kit.updateLead(first, LeadPatch(company = w.conflictCompany.first))
        kit.store.applyRemote(listOf(snapshot(twin)))
        first
    }

    /** A manager's store: the team's leads of this month and the last, targets and a plan. */
    private fun seedManager(kit: FieldSalesKit, w: Words) = runBlocking {
        kit.store.setStage(Stage.PROPOSAL, StagePatch(required = listOf(RequiredField.DEAL_VALUE)))
        val outcomes = listOf(Stage.WON, Stage.WON, Stage.LOST, Stage.PROPOSAL, Stage.NEGOTIATION, Stage.QUALIFIED, Stage.CONTACTED, Stage.NEW, Stage.WON)
        for ((r, rep) in w.reps.withIndex()) for ((i, st) in outcomes.withIndex()) {
            if ((i + r) % 4 == 3 && st == Stage.WON) continue
            val l = kit.createLead(LeadDraft(name = w.names[(i + r * 3) % w.names.size], owner = rep, event = w.events[i % 2],
                dealValue = Money(2_000_000L + 500_000L * ((i * 7 + r) % 9), "KRW")))
            if (st != Stage.NEW) kit.updateLead(l.id, LeadPatch(stage = st))
            if (i % 2 == 0) kit.addActivity(ActivityDraft(leadId = l.id, kind = ActivityKind.CALL, subject = w.subjects[0]))
        }
        val now = ZonedDateTime.now(SEOUL)
        val month = now.toLocalDate().withDayOfMonth(1)
        val start = month.atStartOfDay(SEOUL).toInstant().toEpochMilli()
        val end = month.plusMonths(1).atStartOfDay(SEOUL).toInstant().toEpochMilli()
        for ((r, rep) in w.reps.withIndex()) {
            kit.store.setTarget(TargetDraft(null, SubjectKind.REP, rep, TargetMetric.DEALS_WON, start, end, 3L + r, null))
            kit.store.setPlan(CompPlanDraft(rep, Money(3_000_000, "KRW"), 400u + 100u * r.toUInt(), emptyList()))
        }
        kit.store.setTarget(TargetDraft(null, SubjectKind.REP, w.reps[0], TargetMetric.WON_VALUE, start, end, 20_000_000, "KRW"))
    }

    private fun shot(name: String, locale: Locale, dark: Boolean, fontScale: Float = 1f, heightDp: Int = 860, d: Float = 1.5f, content: @Composable () -> Unit) {
        val scene = ImageComposeScene(width = (400 * d).toInt(), height = (heightDp * d).toInt(), density = Density(d, fontScale)) {
            CompositionLocalProvider(LocalDensity provides Density(d, fontScale)) {
                FieldsalesTheme(dark, XmlText(locale), Formats(locale, SEOUL)) {
                    Surface(Modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) { Box(Modifier.fillMaxSize()) { content() } }
                }
            }
        }
        try {
            var t = 0L
            repeat(20) { scene.render(t); t += 50_000_000L; Thread.sleep(20) }
            val png = scene.render(t).encodeToData(EncodedImageFormat.PNG) ?: error("no PNG for $name")
            File(dir, "$name.png").writeBytes(png.bytes)
        } finally {
            scene.close()
        }
    }

    @Test
    fun `every screen in Korean and English, light and dark`() {
        // Without a font holding Hangul the Korean shots would show empty boxes (.ci/run
        // installs fonts-noto-cjk).
        val hangul = org.jetbrains.skia.FontMgr.default.matchFamilyStyleCharacter(null, org.jetbrains.skia.FontStyle.NORMAL, arrayOf("ko-KR"), '김'.code)
        assertTrue("no font with Hangul on this machine: install fonts-noto-cjk", hangul != null)
        val server = runCatching { TestServer.url }.getOrNull()
        for ((lang, locale, w, code) in listOf(Quad("ko", KO, ko, 2), Quad("en", EN, en, 3))) {
            val base = tempDir()
            // The rep's store is enrolled with the run's server and synced once, so the Sync
            // screen shows a last sync and the changes made since.
            val kit = if (server != null) runBlocking { FieldSalesKit.enroll(File(base, "rep.db").path, "KR", server, TestServer.code("sync", code), "phone") }
            else openKit(base, "rep-kim")
            val twin = runBlocking { FieldSalesKit.open(File(base, "twin.db").path, kit.userId, "KR") }
            if (server != null) runBlocking { kit.sync() }
            val first = seedRep(kit, w, twin)
            val manager = openKit(base, "manager")
            seedManager(manager, w)
            val scope = testScope()
            val app = AppState(session(kit), scope)
            app.start()
            val team = TeamState(session(manager), scope)
            runBlocking {
                app.leads.refresh(); app.today.load(); app.sync.load(); team.load()
                // A visitor being captured, with a duplicate of a stored lead and an e-mail typo.
                app.capture.edit(null) { CaptureForm(name = w.names[1], company = w.companies[1], phone = "010-5555-0101", email = "visitor@", event = w.events[0], potential = Potential.HOT, tags = listOf(w.tags[0])) }
                app.capture.save()
                app.capture.edit(null) { it.copy(email = "visitor@example") }
                delay(600)
            }
            val detail = LeadDetailState(session(kit), scope, first)
            runBlocking { detail.load() }
            val enroll = EnrollState(scope, File(base, "new.db").path, "KR", deviceName = if (lang == "ko") "김민지의 휴대폰" else "Emma's phone")
            enroll.editServer("sales.example.com")
            enroll.editCode("7KQX-M2PA-9WTR-4HNC")
            for (dark in listOf(false, true)) {
                val mode = if (dark) "dark" else "light"
                for (tab in Tab.entries.filter { it != Tab.TEAM }) {
                    app.show(tab)
                    shot("${tab.name.lowercase()}-$lang-$mode", locale, dark) { AppShell(app, clipboard = { null }) }
                }
                shot("detail-$lang-$mode", locale, dark, heightDp = 1400) { LeadDetailScreen(detail, onBack = {}) }
                shot("team-$lang-$mode", locale, dark, heightDp = 1500, d = 1.25f) { io.fieldsales.ui.screens.TeamScreen(team) }
                shot("enroll-$lang-$mode", locale, dark) { EnrollScreen(enroll, clipboard = { null }) {} }
            }
            app.show(Tab.CAPTURE)
            shot("capture-$lang-light-200pct", locale, dark = false, fontScale = 2f, heightDp = 1600) { AppShell(app, clipboard = { null }) }
            app.stop(); twin.close()
        }
        val files = dir.listFiles { f -> f.name.endsWith(".png") }!!.map { it.name }.toSet()
        for (screen in listOf("leads", "capture", "today", "sync", "detail", "team", "enroll")) for (lang in listOf("ko", "en")) for (mode in listOf("light", "dark")) {
            assertTrue("$screen-$lang-$mode.png", "$screen-$lang-$mode.png" in files)
        }
        assertTrue("capture-ko-light-200pct.png" in files)
    }

    @Test
    fun `every string exists in English and Korean`() {
        val en = XmlText.load("values")
        val ko = XmlText.load("values-ko")
        assertEquals(en.keys, ko.keys)
        assertTrue(en.size > 100)
        // Placeholders agree, so a translation never drops an argument.
        val ph = Regex("%(\\d)\\$")
        for (k in en.keys) assertEquals(k, ph.findAll(en.getValue(k)).map { it.value }.toSet(), ph.findAll(ko.getValue(k)).map { it.value }.toSet())
    }

    private data class Quad<A, B, C, D>(val a: A, val b: B, val c: C, val d: D)
}
