package io.fieldsales.ui

import androidx.compose.ui.semantics.SemanticsProperties
import androidx.compose.ui.test.SemanticsMatcher
import androidx.compose.ui.test.assert
import androidx.compose.ui.test.hasAnyAncestor
import androidx.compose.ui.test.hasTestTag
import androidx.compose.ui.test.hasText
import androidx.compose.ui.test.assertTextContains
import androidx.compose.ui.test.junit4.createComposeRule
import androidx.compose.ui.test.onAllNodesWithTag
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.performScrollTo
import androidx.compose.ui.test.performTextInput
import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.kit.core.ActivityKind
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.ffi.RecordKind
import io.fieldsales.kit.core.RequiredField
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.core.StagePatch
import io.fieldsales.kit.ffi.RemoteDocument
import io.fieldsales.kit.ffi.RemotePayload
import io.fieldsales.ui.screens.LeadDetailScreen
import io.fieldsales.ui.screens.LeadsScreen
import io.fieldsales.ui.state.LeadDetailState
import io.fieldsales.ui.state.LeadListState
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import java.time.Instant
import java.time.LocalTime

/** Lead detail on a real store: conflicts, the stage stepper under a rule, the timeline. */
class LeadDetailTest {
    @get:Rule val rule = createComposeRule()

    /** A lead the rep's phone and tablet both edited offline: two companies, two deal values. */
    private fun conflicted(dir: java.io.File): Pair<FieldSalesKit, String> {
        val phone = runBlocking { FieldSalesKit.open(java.io.File(dir, "phone.db").path, "rep-kim", "KR") }
        val tablet = runBlocking { FieldSalesKit.open(java.io.File(dir, "tablet.db").path, "rep-kim", "KR") }
        val id = runBlocking { phone.createLead(LeadDraft(name = "김민지", company = "Acme")) }.id
        fun snapshot(from: FieldSalesKit) = RemoteDocument(id, RecordKind.LEAD, RemotePayload.Snapshot(from.store.documentBytes(id)))
        tablet.store.applyRemote(listOf(snapshot(phone)))
        runBlocking {
            phone.updateLead(id, LeadPatch(company = "Acme Korea"))
            tablet.updateLead(id, LeadPatch(company = "ACME 서울"))
        }
        phone.store.applyRemote(listOf(snapshot(tablet)))
        tablet.close()
        return phone to id
    }

    @Test
    fun `a conflict is resolved in one tap and the conflict mark disappears`() {
        val (kit, id) = conflicted(tempDir())
        val values = runBlocking { kit.lead(id) }.conflicts.single { it.field == "company" }.values
        assertEquals(setOf("Acme Korea", "ACME 서울"), values.toSet())
        val scope = testScope()
        val list = LeadListState(session(kit), scope).also { it.start() }
        rule.setContent { Themed(KO) { LeadsScreen(list, onOpen = {}) } }
        rule.await("the conflict mark in the list") { rule.onAllNodesWithTag("lead.$id.conflict", useUnmergedTree = true).fetchSemanticsNodes().isNotEmpty() }

        val detail = LeadDetailState(session(kit), scope, id).also { it.start() }
        rule.setContent { Themed(KO) { LeadDetailScreen(detail, onBack = {}) } }
        rule.await("the conflict card") { rule.onAllNodesWithTag("conflict.company").fetchSemanticsNodes().isNotEmpty() }
        // Both values are shown, each with its own button.
        for (v in values) rule.onNode(hasText(v) and hasAnyAncestor(hasTestTag("conflict.company"))).assertExists()
        rule.onNodeWithTag("detail.conflictMark", useUnmergedTree = true).assertExists()
        rule.assertAccessible("lead detail with a conflict")
        rule.onNodeWithTag("conflict.company.keep.1").performClick()
        rule.await("resolved") { detail.ui.value.conflicts.isEmpty() }
        rule.onNodeWithTag("conflict.company").assertDoesNotExist()
        rule.onNodeWithTag("detail.conflictMark", useUnmergedTree = true).assertDoesNotExist()
        assertEquals(values[1], runBlocking { kit.lead(id) }.company)
        // And the list's mark is gone too.
        rule.setContent { Themed(KO) { LeadsScreen(list, onOpen = {}) } }
        rule.await("the list refreshed") { list.ui.value.items.none { it.summary.hasConflicts } }
        rule.onNodeWithTag("lead.$id").assertExists()
        rule.onNodeWithTag("lead.$id.conflict", useUnmergedTree = true).assertDoesNotExist()
    }

    @Test
    fun `a stage rule puts its message on the deal value and the move waits for it`() {
        val kit = openKit(tempDir(), "rep-kim")
        kit.store.setStage(Stage.PROPOSAL, StagePatch(name = "Quote sent", required = listOf(RequiredField.DEAL_VALUE)))
        val id = runBlocking { kit.createLead(LeadDraft(name = "김민지", company = "Acme Korea")) }.id
        val detail = LeadDetailState(session(kit), testScope(), id).also { it.start() }
        rule.setContent { Themed(EN) { LeadDetailScreen(detail, onBack = {}) } }
        rule.await("loaded") { detail.ui.value.lead != null }
        rule.onNodeWithTag("detail.stage.proposal").performScrollTo().performClick()
        rule.await("the rule's message") { rule.onAllNodesWithTag("detail.deal.error", useUnmergedTree = true).fetchSemanticsNodes().isNotEmpty() }
        rule.onNodeWithTag("detail.deal.error", useUnmergedTree = true).assertTextContains("stage 'Quote sent' needs a deal value")
        rule.onNodeWithTag("detail.deal").assert(SemanticsMatcher.expectValue(SemanticsProperties.Error, "stage 'Quote sent' needs a deal value"))
        assertEquals(Stage.NEW, runBlocking { kit.lead(id) }.stage)
        rule.onNodeWithTag("detail.saveDeal").assertTextContains("Save and move to Quote sent")
        rule.onNodeWithTag("detail.deal").performTextInput("2,500,000")
        rule.onNodeWithTag("detail.saveDeal").performScrollTo().performClick()
        rule.await("moved") { detail.ui.value.lead?.stage == Stage.PROPOSAL }
        val lead = runBlocking { kit.lead(id) }
        assertEquals(2_500_000L, lead.dealValue?.amountMinor)
        assertEquals(Stage.PROPOSAL, lead.stage)
        rule.onNodeWithTag("detail.dealValue").assertTextContains("₩2,500,000", substring = true)
        rule.assertAccessible("lead detail")
    }

    @Test
    fun `activities are logged on the timeline and the follow-up date is local`() {
        val kit = openKit(tempDir(), "rep-kim")
        val id = runBlocking { kit.createLead(LeadDraft(name = "이서준")) }.id
        val s = session(kit)
        val detail = LeadDetailState(s, testScope(), id).also { it.start() }
        rule.setContent { Themed(KO) { LeadDetailScreen(detail, onBack = {}) } }
        rule.await("loaded") { detail.ui.value.lead != null }
        rule.onNodeWithTag("detail.subject").performScrollTo().performTextInput("첫 통화")
        rule.onNodeWithTag("detail.log.call").performScrollTo().performClick()
        rule.await("the call") { detail.ui.value.activities.any { it.kind == ActivityKind.CALL } }
        rule.onNodeWithTag("detail.log.task").performScrollTo().performClick()
        rule.await("the task") { detail.ui.value.activities.size == 2 }
        val call = detail.ui.value.activities.single { it.kind == ActivityKind.CALL }
        assertEquals("첫 통화", call.subject)
        assertTrue(call.done)
        val task = detail.ui.value.activities.single { it.kind == ActivityKind.TASK }
        rule.onNodeWithTag("activity.${task.id}.done").performScrollTo().performClick()
        rule.await("task done") { detail.ui.value.activities.all { it.done } }
        rule.onNodeWithTag("detail.followUp.tomorrow").performScrollTo().performClick()
        rule.await("follow-up") { detail.ui.value.lead?.nextFollowUp != null }
        val at = Instant.ofEpochMilli(detail.ui.value.lead!!.nextFollowUp!!).atZone(SEOUL)
        assertEquals(detail.today().plusDays(1), at.toLocalDate())
        assertEquals(LocalTime.of(9, 0), at.toLocalTime())
        rule.onNodeWithTag("detail.followUp").assertTextContains(at.toLocalDate().year.toString(), substring = true)
        assertNull(detail.ui.value.problem)
        assertEquals(2, runBlocking { kit.leadDetail(id) }.activities.size)
    }
}
