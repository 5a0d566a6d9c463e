package io.fieldsales.ui.screens

import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalDensity
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import io.fieldsales.ui.state.AppState
import io.fieldsales.ui.state.Tab

/** The shell: its tabs (five, or four on a rep's device), and a lead's detail over them. */
@Composable
fun AppShell(app: AppState, clipboard: () -> String?) {
    val nav by app.nav.collectAsState()
    val tabs by app.tabs.collectAsState()
    // At large font sizes five labels no longer fit under their icons: the icons stay, and each
    // keeps its label for screen readers.
    val labels = LocalDensity.current.fontScale <= 1.5f
    Scaffold(
        bottomBar = {
            NavigationBar {
                for (tab in tabs) {
                    val label = t("tab_" + tab.name.lowercase())
                    NavigationBarItem(
                        selected = nav.tab == tab && nav.leadId == null,
                        onClick = { app.show(tab) },
                        icon = { Text(tab.glyph, style = MaterialTheme.typography.titleMedium) },
                        label = if (labels) { { Text(label, maxLines = 1) } } else null,
                        modifier = Modifier.testTag("tab.${tab.name.lowercase()}").semantics { contentDescription = label },
                    )
                }
            }
        },
    ) { padding ->
        Box(Modifier.fillMaxSize().padding(padding)) {
            val id = nav.leadId
            if (id != null) {
                val detail = remember(id) { app.detail(id) }
                DisposableEffect(detail) {
                    detail.start()
                    onDispose { detail.stop() }
                }
                LeadDetailScreen(detail, onBack = app::back)
            } else {
                Column {
                    when (nav.tab) {
                        Tab.LEADS -> LeadsScreen(app.leads, onOpen = app::open)
                        Tab.CAPTURE -> CaptureScreen(app.capture, clipboard, onOpenLead = app::open)
                        Tab.TODAY -> TodayScreen(app.today, onOpen = app::open)
                        Tab.SYNC -> SyncScreen(app.sync)
                        Tab.TEAM -> TeamScreen(app.team)
                    }
                }
            }
        }
    }
}
