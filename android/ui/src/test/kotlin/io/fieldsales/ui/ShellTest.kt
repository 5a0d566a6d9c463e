package io.fieldsales.ui

import androidx.compose.ui.test.assertCountEquals
import androidx.compose.ui.test.junit4.createComposeRule
import androidx.compose.ui.test.onAllNodesWithTag
import androidx.compose.ui.test.onNodeWithTag
import io.fieldsales.kit.core.Credentials
import io.fieldsales.ui.screens.AppShell
import io.fieldsales.ui.state.AppState
import io.fieldsales.ui.state.Tab
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Rule
import org.junit.Test

class ShellTest {
    @get:Rule val rule = createComposeRule()

    private fun enrolledAs(user: String, role: String): AppState {
        val kit = openKit(tempDir(), user)
        kit.store.saveCredentials(Credentials("http://127.0.0.1:1", "d-$user", "t", user, "w", role))
        return AppState(session(kit), testScope())
    }

    @Test
    fun `a rep's device has no Team tab, a manager's has it`() {
        val rep = enrolledAs("rep-kim", "rep")
        runBlocking { rep.loadTabs() }
        assertEquals(listOf(Tab.LEADS, Tab.CAPTURE, Tab.TODAY, Tab.SYNC), rep.tabs.value)
        rule.setContent { Themed(EN) { AppShell(rep, clipboard = { null }) } }
        rule.onNodeWithTag("tab.leads").assertExists()
        rule.onAllNodesWithTag("tab.team").assertCountEquals(0)

        val manager = enrolledAs("park", "manager")
        runBlocking { manager.loadTabs() }
        assertEquals(Tab.entries.toList(), manager.tabs.value)
    }
}
