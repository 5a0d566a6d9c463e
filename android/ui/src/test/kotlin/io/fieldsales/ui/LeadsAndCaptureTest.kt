package io.fieldsales.ui

import androidx.compose.ui.semantics.SemanticsProperties
import androidx.compose.ui.test.SemanticsMatcher
import androidx.compose.ui.test.assert
import androidx.compose.ui.test.assertTextContains
import androidx.compose.ui.test.junit4.createComposeRule
import androidx.compose.ui.test.onAllNodesWithTag
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.performTextInput
import androidx.compose.ui.test.performTextReplacement
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.core.Potential
import io.fieldsales.ui.screens.AppShell
import io.fieldsales.ui.screens.CaptureScreen
import io.fieldsales.ui.screens.LeadsScreen
import io.fieldsales.ui.state.AppState
import io.fieldsales.ui.state.CaptureState
import io.fieldsales.ui.state.LeadListState
import io.fieldsales.ui.state.Tab
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test

/** Leads and Capture on a real store: capture, find, paste, validation on the field. */
class LeadsAndCaptureTest {
    @get:Rule val rule = createComposeRule()

    @Test
    fun `a lead captured with a Korean name is in the list and found by 김민`() {
        val kit = openKit(tempDir(), "rep-kim")
        val app = AppState(session(kit), testScope())
        app.start()
        rule.setContent { Themed(KO) { AppShell(app, clipboard = { null }) } }
        rule.onNodeWithTag("tab.capture").performClick()
        rule.onNodeWithTag("capture.name").performTextInput("김민지")
        rule.onNodeWithTag("capture.company").performTextInput("Acme Korea")
        rule.onNodeWithTag("capture.phone").performTextInput("010-1234-5678")
        rule.onNodeWithTag("capture.email").performTextInput("minji@acme.co.kr")
        rule.onNodeWithTag("capture.potential.hot").performClick()
        rule.onNodeWithTag("capture.event").performTextInput("Seoul Expo")
        rule.assertAccessible("capture")
        rule.onNodeWithTag("capture.save").performClick()
        rule.await("saved") { app.capture.ui.value.saved != null }
        rule.onNodeWithTag("capture.saved").assertTextContains("김민지", substring = true)
        // The event stays for the next visitor.
        assertEquals("Seoul Expo", app.capture.ui.value.form.event)

        val stored = runBlocking { kit.listLeads(LeadQuery(sort = LeadSort.UPDATED)) }.items.single()
        assertEquals("+821012345678", stored.phone)
        assertEquals(Potential.HOT, stored.potential)

        rule.onNodeWithTag("tab.leads").performClick()
        rule.await("the lead in the list") { rule.onAllNodesWithTag("lead.${stored.id}").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("lead.${stored.id}.unsynced", useUnmergedTree = true).assertExists()
        // A screen reader reads the mark with the name.
        rule.onNodeWithTag("lead.${stored.id}").assert(SemanticsMatcher.expectValue(SemanticsProperties.ContentDescription, listOf("김민지, 미동기화")))
        rule.onNodeWithTag("leads.search").performTextInput("김민")
        rule.await("search results") { app.leads.ui.value.search == "김민" && !app.leads.ui.value.loading }
        rule.onNodeWithTag("lead.${stored.id}").assertExists()
        rule.onNodeWithTag("leads.search").performTextReplacement("박")
        rule.await("no match") { rule.onAllNodesWithTag("leads.empty").fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("lead.${stored.id}").assertDoesNotExist()
        rule.assertAccessible("leads")
    }

    @Test
    fun `an invalid e-mail puts the core's message on the e-mail field and saves nothing`() {
        val kit = openKit(tempDir(), "rep-kim")
        val capture = CaptureState(session(kit), testScope())
        rule.setContent { Themed(EN) { CaptureScreen(capture, clipboard = { null }, onOpenLead = {}) } }
        rule.onNodeWithTag("capture.name").performTextInput("김민지")
        rule.onNodeWithTag("capture.email").performTextInput("minji@acme")
        rule.onNodeWithTag("capture.save").performClick()
        rule.await("the error") { rule.onAllNodesWithTag("capture.email.error", useUnmergedTree = true).fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("capture.email.error", useUnmergedTree = true).assertTextContains("'minji@acme' is not a valid e-mail address")
        rule.onNodeWithTag("capture.email").assert(SemanticsMatcher.expectValue(SemanticsProperties.Error, "'minji@acme' is not a valid e-mail address"))
        rule.onNodeWithTag("capture.name.error", useUnmergedTree = true).assertDoesNotExist()
        assertEquals(0, runBlocking { kit.listLeads(LeadQuery(sort = LeadSort.UPDATED)) }.items.size)
        // Typing in the field clears its error; a valid address then saves.
        rule.onNodeWithTag("capture.email").performTextInput(".co.kr")
        rule.onNodeWithTag("capture.email.error", useUnmergedTree = true).assertDoesNotExist()
        rule.onNodeWithTag("capture.save").performClick()
        rule.await("saved") { capture.ui.value.saved != null }
        assertEquals(1, runBlocking { kit.listLeads(LeadQuery(sort = LeadSort.UPDATED)) }.items.size)
    }

    @Test
    fun `a pasted vCard fills the form`() {
        val kit = openKit(tempDir(), "rep-kim")
        val capture = CaptureState(session(kit), testScope())
        val vcard = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:이서준\r\nORG:Hanbit Systems\r\nTITLE:구매 팀장\r\nTEL;TYPE=CELL:010-9876-5432\r\nEMAIL:seojun@hanbit.kr\r\nEND:VCARD\r\n"
        rule.setContent { Themed(KO) { CaptureScreen(capture, clipboard = { vcard }, onOpenLead = {}) } }
        rule.onNodeWithTag("capture.paste").performClick()
        rule.await("the form filled") { capture.ui.value.form.name.isNotEmpty() }
        rule.onNodeWithTag("capture.name").assertTextContains("이서준")
        rule.onNodeWithTag("capture.company").assertTextContains("Hanbit Systems")
        rule.onNodeWithTag("capture.title").assertTextContains("구매 팀장")
        rule.onNodeWithTag("capture.phone").assertTextContains("+821098765432", substring = true)
        rule.onNodeWithTag("capture.email").assertTextContains("seojun@hanbit.kr")
        rule.onNodeWithTag("capture.save").performClick()
        rule.await("saved") { capture.ui.value.saved != null }
        val lead = capture.ui.value.saved!!
        assertEquals(io.fieldsales.kit.core.CaptureChannel.BADGE_SCAN, lead.source.channel)
        // Text that is no contact says so in plain words.
        val capture2 = CaptureState(session(kit), testScope())
        capture2.paste("hello")
        rule.await("a problem") { capture2.ui.value.pasteProblem != null }
        assertEquals(io.fieldsales.ui.state.Problem.UNREADABLE_CODE, capture2.ui.value.pasteProblem!!.problem)
    }

    @Test
    fun `the list pages by keyset as it scrolls, filters and sorts`() {
        val kit = openKit(tempDir(), "rep-kim")
        runBlocking {
            kit.createLeads((1..120).map { i ->
                LeadDraft(name = "리드 %03d".format(i), potential = if (i % 3 == 0) Potential.HOT else null, event = if (i <= 10) "Busan Fair" else "Seoul Expo")
            })
        }
        val list = LeadListState(session(kit), testScope())
        // The state holder alone first: one page of 50 at a time, on request.
        list.start()
        rule.await("first page") { !list.ui.value.loading && list.ui.value.items.size == 50 }
        assertTrue(list.ui.value.hasMore)
        list.loadMore()
        rule.await("second page") { list.ui.value.items.size == 100 }
        list.loadMore()
        rule.await("last page") { list.ui.value.items.size == 120 && !list.ui.value.hasMore }
        assertEquals(120, list.ui.value.items.map { it.summary.id }.toSet().size)
        rule.setContent { Themed(EN) { LeadsScreen(list, onOpen = {}) } }
        rule.onNodeWithTag("leads.filters").performClick()
        rule.await("facets") { list.ui.value.facets.events.size == 2 }
        rule.onNodeWithTag("filter.potential.hot").performClick()
        rule.await("hot only") { !list.ui.value.loading && list.ui.value.items.size == 40 }
        rule.onNodeWithTag("filter.event.Busan Fair").performClick()
        rule.await("hot at Busan") { !list.ui.value.loading && list.ui.value.items.size == 3 }
        rule.onNodeWithTag("leads.sort.name").performClick()
        rule.await("by name") { !list.ui.value.loading && list.ui.value.filters.sort == LeadSort.NAME }
        assertEquals(listOf("리드 003", "리드 006", "리드 009"), list.ui.value.items.map { it.summary.displayName })
        rule.assertAccessible("leads with filters")
    }
}
