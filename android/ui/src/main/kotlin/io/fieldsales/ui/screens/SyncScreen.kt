package io.fieldsales.ui.screens

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import io.fieldsales.kit.core.SyncPhase
import io.fieldsales.ui.state.SyncState
import kotlinx.coroutines.launch

/** Last synced, changes waiting, a sync with progress and cancel, problems, quarantine, sign out. */
@Composable
fun SyncScreen(state: SyncState) {
    val ui by state.ui.collectAsState()
    val fmt = LocalFormats.current
    val scope = rememberCoroutineScope()
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(12.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
        KeyValue(t("sync_last"), ui.status.lastSyncedAt?.let { fmt.dateTime(it) } ?: t("sync_never"), Modifier.testTag("sync.last"))
        KeyValue(t("sync_waiting"), fmt.number(ui.status.waiting.toLong()), Modifier.testTag("sync.waiting"))
        KeyValue(t("sync_conflicts"), fmt.number(ui.status.conflictedLeads.toLong()), Modifier.testTag("sync.conflicts"))
        if (!ui.enrolled) Text(t("problem_not_enrolled"), color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("sync.notEnrolled"))
        val run = ui.running
        if (run != null) {
            val phase = when (run.phase) {
                SyncPhase.PUSH -> t("sync_sending", fmt.number(run.done.toLong()), fmt.number(run.total.toLong()))
                SyncPhase.PULL -> t("sync_receiving", fmt.number(run.done.toLong()), fmt.number(run.total.toLong()))
                null -> t("sync_starting")
            }
            Text(phase, modifier = Modifier.testTag("sync.phase"))
            LinearProgressIndicator(
                progress = { run.fraction },
                modifier = Modifier.fillMaxWidth().testTag("sync.progress").semantics { contentDescription = phase },
            )
            OutlinedButton(onClick = state::cancel, modifier = Modifier.testTag("sync.cancel")) { Text(t("sync_cancel")) }
        } else {
            Button(onClick = state::sync, enabled = ui.enrolled, modifier = Modifier.fillMaxWidth().testTag("sync.now")) { Text(t("sync_now")) }
        }
        ui.problem?.let { ProblemCard(it, "sync.problem") }
        ui.last?.let { s ->
            Text(
                t("sync_done", fmt.number(s.sent.toLong()), fmt.number(s.received.toLong())) +
                    (if (s.rejected > 0u) " " + t("sync_rejected", fmt.number(s.rejected.toLong())) else ""),
                modifier = Modifier.testTag("sync.summary"),
            )
        }
        SectionTitle(t("sync_quarantine", ui.quarantine.size))
        if (ui.quarantine.isEmpty()) Text(t("sync_quarantine_empty"), color = MaterialTheme.colorScheme.onSurfaceVariant)
        for (q in ui.quarantine) {
            Card(Modifier.fillMaxWidth().testTag("quarantine.${q.id}")) {
                Column(Modifier.padding(10.dp)) {
                    Text(q.reason, fontWeight = FontWeight.Medium)
                    Text("${q.kind.name.lowercase()} ${q.docId.take(8)} · ${fmt.dateTime(q.at)} · ${q.code}", style = MaterialTheme.typography.bodySmall)
                }
            }
        }
        SectionTitle(t("sync_device"))
        OutlinedButton(onClick = { scope.launch { state.requestRemove() } }, modifier = Modifier.testTag("sync.remove")) { Text(t("sync_remove")) }
    }
    ui.confirm?.let { c ->
        AlertDialog(
            onDismissRequest = state::dismissRemove,
            title = { Text(t("sync_remove_title")) },
            text = { Text(t("sync_remove_body", fmt.number(c.unsynced)), modifier = Modifier.testTag("sync.confirm.text")) },
            confirmButton = { TextButton(onClick = { scope.launch { state.remove() } }, modifier = Modifier.testTag("sync.confirm.remove")) { Text(t("sync_remove_anyway")) } },
            dismissButton = { TextButton(onClick = state::dismissRemove, modifier = Modifier.testTag("sync.confirm.keep")) { Text(t("sync_keep")) } },
            modifier = Modifier.testTag("sync.confirm"),
        )
    }
}
