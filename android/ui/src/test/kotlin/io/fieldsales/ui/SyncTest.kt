package io.fieldsales.ui

import androidx.compose.ui.test.assertTextContains
import androidx.compose.ui.test.junit4.createComposeRule
import androidx.compose.ui.test.onAllNodesWithTag
import androidx.compose.ui.test.onNodeWithTag
import androidx.compose.ui.test.performClick
import androidx.compose.ui.test.performTextInput
import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.kit.core.Credentials
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.SyncPhase
import io.fieldsales.ui.screens.CaptureScreen
import io.fieldsales.ui.screens.EnrollScreen
import io.fieldsales.ui.screens.SyncScreen
import io.fieldsales.ui.state.CaptureState
import io.fieldsales.ui.state.EnrollState
import io.fieldsales.ui.state.Problem
import io.fieldsales.ui.state.SyncRun
import io.fieldsales.ui.state.SyncState
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import java.io.File
import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/** Sync, Enroll and the duplicate warning against the real fieldsales-server of the run. */
class SyncTest {
    @get:Rule val rule = createComposeRule()

    private fun enrolled(dir: File, role: String, n: Int = 1): FieldSalesKit =
        runBlocking { FieldSalesKit.enroll(File(dir, "$role.db").path, "KR", TestServer.url, TestServer.code(role, n), "$role's phone") }

    @Test
    fun `a sync shows its progress and clears the waiting count`() {
        val kit = enrolled(tempDir(), "sync")
        runBlocking { kit.createLeads((1..1200).map { LeadDraft(name = "방문객 $it", company = "Expo ${it % 7}") }) }
        // Every step the sync reports (the screen's own flow is conflated and may skip some).
        val seen = Collections.synchronizedList(mutableListOf<SyncRun>())
        val sync = SyncState(session(kit), testScope(), onStep = { seen += it })
        sync.start()
        rule.setContent { Themed(KO) { SyncScreen(sync) } }
        rule.await("the waiting count") { sync.ui.value.status.waiting == 1200uL }
        rule.onNodeWithTag("sync.waiting").assertTextContains("1,200", substring = true)
        rule.onNodeWithTag("sync.last").assertTextContains("없음", substring = true)
        rule.assertAccessible("sync")
        rule.onNodeWithTag("sync.now").performClick()
        rule.await("the sync to end") { sync.ui.value.last != null || sync.ui.value.problem != null }
        assertEquals(null, sync.ui.value.problem)
        assertEquals(1200uL, sync.ui.value.last!!.sent)
        // Batches of 500: the bar moved through the push phase before it ended.
        val pushes = seen.filter { it.phase == SyncPhase.PUSH }
        assertTrue("progress seen: $seen", pushes.any { it.done > 0uL && it.done < it.total })
        assertTrue(pushes.map { it.fraction }.zipWithNext().all { (a, b) -> b >= a })
        rule.await("waiting cleared") { sync.ui.value.status.waiting == 0uL && sync.ui.value.status.lastSyncedAt != null }
        rule.onNodeWithTag("sync.waiting").assertTextContains("0", substring = true)
        rule.onNodeWithTag("sync.summary").assertTextContains("1,200", substring = true)
        rule.onNodeWithTag("sync.last").assertTextContains(java.time.LocalDate.now(SEOUL).year.toString(), substring = true)
        // Removing the store with an unsynced change asks first, with the count.
        runBlocking { kit.createLead(LeadDraft(name = "마지막 방문객")) }
        rule.onNodeWithTag("sync.remove").performClick()
        rule.await("the question") { sync.ui.value.confirm != null }
        rule.onNodeWithTag("sync.confirm.text").assertTextContains("변경 1개", substring = true)
        rule.onNodeWithTag("sync.confirm.keep").performClick()
        rule.await("kept") { sync.ui.value.confirm == null }
        assertFalse(sync.ui.value.removed)
        assertTrue(File(kit.store.path()).exists())
    }

    @Test
    fun `cancel stops a running sync, says so, and the next sync finishes the job`() {
        val kit = enrolled(tempDir(), "cancel")
        runBlocking { kit.createLeads((1..1500).map { LeadDraft(name = "방문객 $it") }) }
        // Three batches of 500 to push: the sync waits after the first until the cancel is in,
        // so the cancel lands mid-way however fast or loaded the machine is.
        val midway = CountDownLatch(1)
        val cancelled = CountDownLatch(1)
        val sync = SyncState(session(kit), testScope(), onStep = { run ->
            if (run.phase == SyncPhase.PUSH && run.done > 0uL && run.done < run.total && midway.count > 0) {
                midway.countDown()
                cancelled.await(20, TimeUnit.SECONDS)
            }
        }).also { it.start() }
        rule.setContent { Themed(EN) { SyncScreen(sync) } }
        rule.await("loaded") { sync.ui.value.enrolled }
        sync.sync()
        rule.await("the first batch") { midway.count == 0L }
        rule.onNodeWithTag("sync.cancel").performClick()
        cancelled.countDown()
        rule.await("stopped") { sync.ui.value.running == null && (sync.ui.value.problem != null || sync.ui.value.last != null) }
        assertEquals(Problem.CANCELLED, sync.ui.value.problem?.problem)
        rule.onNodeWithTag("sync.problem").assertTextContains("Sync cancelled", substring = true)
        rule.await("status") { sync.ui.value.status.waiting > 0uL }
        rule.onNodeWithTag("sync.now").performClick()
        rule.await("finished") { sync.ui.value.last != null && sync.ui.value.status.waiting == 0uL }
        assertEquals(null, sync.ui.value.problem)
    }

    @Test
    fun `sync problems are said in plain words`() {
        val dir = tempDir()
        // Nothing listens on port 1: offline.
        val offline = openKit(dir, "rep-off")
        offline.store.saveCredentials(Credentials("http://127.0.0.1:1", "d", "t", "rep-off", "w", "rep"))
        val s1 = SyncState(session(offline), testScope()).also { it.start() }
        rule.setContent { Themed(EN) { SyncScreen(s1) } }
        rule.await("enrolled") { s1.ui.value.enrolled }
        rule.onNodeWithTag("sync.now").performClick()
        rule.await("a problem") { s1.ui.value.problem != null }
        assertEquals(Problem.OFFLINE, s1.ui.value.problem!!.problem)
        rule.onNodeWithTag("sync.problem").assertTextContains("No connection to the server", substring = true)
        // A token the server does not know: this device was signed out.
        val revoked = openKit(dir, "rep-rev")
        revoked.store.saveCredentials(Credentials(TestServer.url, "d", "not-a-token", "rep-rev", "w", "rep"))
        val s2 = SyncState(session(revoked), testScope()).also { it.start() }
        rule.setContent { Themed(KO) { SyncScreen(s2) } }
        rule.await("enrolled") { s2.ui.value.enrolled }
        rule.onNodeWithTag("sync.now").performClick()
        rule.await("a problem") { s2.ui.value.problem != null }
        assertEquals(Problem.REVOKED, s2.ui.value.problem!!.problem)
        rule.onNodeWithTag("sync.problem").assertTextContains("다시 등록", substring = true)
        // Not enrolled at all: the button is off and the screen says why.
        val never = SyncState(session(openKit(dir, "rep-new")), testScope()).also { it.start() }
        rule.setContent { Themed(EN) { SyncScreen(never) } }
        rule.await("loaded") { rule.onAllNodesWithTag("sync.notEnrolled").fetchSemanticsNodes().isNotEmpty() }
    }

    @Test
    fun `enrolling takes a pasted code and says plainly when a code is used up or the server unreachable`() {
        val dir = tempDir()
        val path = File(dir, "enroll.db").path
        val state = EnrollState(testScope(), path, "KR", deviceName = "")
        var kit: FieldSalesKit? = null
        // Pasted with a label, spaces and a line break, as a message app would.
        val pasted = "code: ${TestServer.code("enroll", 1).chunked(4).joinToString(" ")}\n"
        rule.setContent { Themed(KO) { EnrollScreen(state, clipboard = { pasted }) { kit = it } } }
        rule.assertAccessible("enroll")
        rule.onNodeWithTag("enroll.submit").performClick()
        rule.await("needed fields") { state.ui.value.missing.size == 3 }
        rule.onNodeWithTag("enroll.server").performTextInput(TestServer.url)
        rule.onNodeWithTag("enroll.paste").performClick()
        assertEquals(TestServer.code("enroll", 1).replace(" ", ""), state.ui.value.code)
        rule.onNodeWithTag("enroll.device").performTextInput("김민지의 휴대폰")
        rule.onNodeWithTag("enroll.submit").performClick()
        rule.await("enrolled") { kit != null }
        assertEquals(TestServer.user("enroll"), kit!!.userId)
        assertTrue(kit!!.isEnrolled)
        kit!!.close()

        // The same code again: used. The screen says so in plain words.
        val again = EnrollState(testScope(), File(dir, "other.db").path, "KR", deviceName = "tablet")
        again.editServer(TestServer.url)
        again.editCode(TestServer.code("enroll", 1))
        rule.setContent { Themed(EN) { EnrollScreen(again, clipboard = { null }) {} } }
        rule.onNodeWithTag("enroll.submit").performClick()
        rule.await("a problem") { again.ui.value.problem != null }
        assertEquals(Problem.BAD_CODE, again.ui.value.problem!!.problem)
        rule.onNodeWithTag("enroll.problem").assertTextContains("unknown, used or expired", substring = true)
        // No server there: no network.
        again.editServer("http://127.0.0.1:1")
        again.editCode(TestServer.code("enroll", 2))
        rule.onNodeWithTag("enroll.submit").performClick()
        rule.await("a problem") { again.ui.value.problem?.problem == Problem.OFFLINE }
        rule.onNodeWithTag("enroll.problem").assertTextContains("No connection", substring = true)
    }

    @Test
    fun `a duplicate captured by another rep is shown before saving, after a sync from the server`() {
        val dir = tempDir()
        val lee = enrolled(dir, "lee")
        val leeLead = runBlocking { lee.createLead(LeadDraft(name = "김민지", company = "Acme Korea", emails = listOf("minji@acme.co.kr"))) }
        runBlocking { lee.sync() }
        // The manager at the same booth: his phone holds the team's leads once it syncs.
        val park = enrolled(dir, "park")
        runBlocking { park.sync() }
        assertNotNull(runBlocking { park.lead(leeLead.id) })
        val capture = CaptureState(session(park), testScope())
        var opened: String? = null
        rule.setContent { Themed(KO) { CaptureScreen(capture, clipboard = { null }) { opened = it } } }
        rule.onNodeWithTag("capture.name").performTextInput("김민지")
        rule.onNodeWithTag("capture.company").performTextInput("acme korea")
        rule.await("the warning") { capture.ui.value.duplicates.isNotEmpty() }
        val hit = capture.ui.value.duplicates.single()
        assertEquals(leeLead.id, hit.leadId)
        assertEquals(TestServer.user("lee"), hit.capturedBy)
        // The state is there before the frame that shows it: wait for the line itself (once,
        // CI found it only in the unmerged tree right after the state changed).
        rule.await("the warning on screen") { rule.onAllNodesWithTag("capture.duplicate.${leeLead.id}").fetchSemanticsNodes().size == 1 }
        rule.onNodeWithTag("capture.duplicate.${leeLead.id}").assertTextContains("김민지, Acme Korea — ${TestServer.user("lee")} 님이 등록")
        rule.assertAccessible("capture with a duplicate")
        rule.onNodeWithTag("capture.openInstead.${leeLead.id}").performClick()
        assertEquals(leeLead.id, opened)
        // Nothing was saved; the form is clear for the next visitor.
        assertEquals(0L, park.store.pendingUploadCount())
        assertEquals("", capture.ui.value.form.name)
    }
}
