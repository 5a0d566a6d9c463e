package io.fieldsales.ui.screens

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import io.fieldsales.kit.core.FollowUp
import io.fieldsales.ui.state.TodayState
import kotlinx.coroutines.launch

/** Follow-ups and open tasks: overdue, today, the next seven days, in the rep's zone. */
@Composable
fun TodayScreen(state: TodayState, onOpen: (String) -> Unit) {
    val ui by state.ui.collectAsState()
    val fmt = LocalFormats.current
    val scope = rememberCoroutineScope()
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(12.dp)) {
        ui.date?.let { Text(fmt.localDate(it), style = MaterialTheme.typography.headlineSmall, modifier = Modifier.testTag("today.date")) }
        ui.problem?.let { ProblemCard(it) }
        if (!ui.loading && ui.isEmpty) Text(t("today_nothing"), modifier = Modifier.padding(vertical = 16.dp).testTag("today.empty"))
        for ((key, list, tag) in listOf(
            Triple("today_overdue", ui.followUps.overdue, "overdue"),
            Triple("today_today", ui.followUps.today, "today"),
            Triple("today_upcoming", ui.followUps.upcoming, "upcoming"),
        )) {
            if (list.isEmpty()) continue
            SectionTitle(t(key, list.size), Modifier.testTag("today.$tag"))
            for (f in list) {
                Item(f, overdue = tag == "overdue", showDate = tag != "today", onOpen = onOpen) { scope.launch { state.complete(f) } }
                HorizontalDivider()
            }
        }
    }
}

@Composable
private fun Item(f: FollowUp, overdue: Boolean, showDate: Boolean, onOpen: (String) -> Unit, onDone: () -> Unit) {
    val fmt = LocalFormats.current
    Row(
        Modifier.fillMaxWidth().heightIn(min = 56.dp).clickable { onOpen(f.leadId) }.padding(vertical = 6.dp)
            .testTag("followup.${f.leadId}.${f.activityId ?: "lead"}"),
        verticalAlignment = Alignment.CenterVertically,
    ) {
        Column(Modifier.weight(1f)) {
            Text(f.leadName, fontWeight = FontWeight.SemiBold)
            Text(
                (f.subject?.let { t("today_task", it) } ?: t("today_follow_up")) + " · " + if (showDate) fmt.dateTime(f.dueAt) else fmt.time(f.dueAt),
                style = MaterialTheme.typography.bodySmall,
                color = if (overdue) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurfaceVariant,
            )
        }
        if (f.activityId != null) TextButton(onClick = onDone, modifier = Modifier.testTag("followup.${f.activityId}.done")) { Text(t("detail_mark_done")) }
    }
}
