package io.fieldsales.ui.screens

import androidx.compose.foundation.BorderStroke
import androidx.compose.foundation.background
import androidx.compose.foundation.clickable
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.sizeIn
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.shape.RoundedCornerShape
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Badge
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.selected
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import io.fieldsales.kit.core.ActivityKind
import io.fieldsales.kit.core.FieldConflict
import io.fieldsales.kit.core.FormField
import io.fieldsales.kit.core.Stage
import io.fieldsales.ui.state.LeadDetailState
import io.fieldsales.ui.state.STEPPER
import kotlinx.coroutines.launch

/** A lead: fields, stage stepper under the stage rules, conflicts, timeline, follow-up. */
@Composable
fun LeadDetailScreen(state: LeadDetailState, onBack: () -> Unit) {
    val ui by state.ui.collectAsState()
    val scope = rememberCoroutineScope()
    val fmt = LocalFormats.current
    val lead = ui.lead
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(12.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
        TextButton(onClick = onBack, modifier = Modifier.testTag("detail.back")) { Text(t("back")) }
        ui.problem?.let { ProblemCard(it) }
        if (lead == null) return@Column
        Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Text(lead.name ?: lead.company ?: lead.emails.firstOrNull() ?: lead.phones.firstOrNull() ?: "",
                style = MaterialTheme.typography.headlineSmall, fontWeight = FontWeight.SemiBold, modifier = Modifier.weight(1f).testTag("detail.name"))
            if (ui.unsynced) Badge(containerColor = MaterialTheme.colorScheme.tertiary, modifier = Modifier.testTag("detail.unsynced")) { Text(t("mark_unsynced")) }
            if (lead.conflicts.isNotEmpty()) Badge(modifier = Modifier.testTag("detail.conflictMark")) { Text(t("mark_conflict")) }
        }
        lead.company?.let { KeyValue(t("field_company"), it) }
        lead.title?.let { KeyValue(t("field_title"), it) }
        if (lead.phones.isNotEmpty()) KeyValue(t("field_phone"), lead.phones.joinToString(", "))
        if (lead.emails.isNotEmpty()) KeyValue(t("field_email"), lead.emails.joinToString(", "))
        lead.source.event?.let { KeyValue(t("field_event"), it) }
        lead.potential?.let { KeyValue(t("field_potential"), potentialLabel(it)) }
        KeyValue(t("field_deal_value"), lead.dealValue?.let { fmt.money(it) } ?: "—", Modifier.testTag("detail.dealValue"))
        KeyValue(t("field_owner"), lead.owner)
        if (lead.tags.isNotEmpty()) KeyValue(t("field_tags"), lead.tags.joinToString(" ") { "#$it" })
        if (lead.notes.isNotBlank()) KeyValue(t("field_notes"), lead.notes)

        if (ui.conflicts.isNotEmpty()) {
            SectionTitle(t("detail_conflicts"))
            for (c in ui.conflicts) ConflictCard(c) { choice -> scope.launch { state.resolve(c, choice) } }
        }

        SectionTitle(t("field_stage"))
        Row(Modifier.horizontalScroll(rememberScrollState()).testTag("detail.stepper"), horizontalArrangement = Arrangement.spacedBy(4.dp)) {
            val rank = STEPPER.indexOf(lead.stage)
            for ((i, s) in STEPPER.withIndex()) {
                val current = s == lead.stage
                val passed = s != Stage.LOST && lead.stage != Stage.LOST && i < rank
                val rules = ui.rulesOf(s)
                val name = stageLabel(s, ui.stageName(s))
                Surface(
                    shape = RoundedCornerShape(8.dp),
                    color = when {
                        current -> MaterialTheme.colorScheme.primary
                        passed -> MaterialTheme.colorScheme.primaryContainer
                        else -> MaterialTheme.colorScheme.surfaceVariant
                    },
                    border = if (ui.pendingStage == s) BorderStroke(2.dp, MaterialTheme.colorScheme.error) else null,
                    modifier = Modifier.sizeIn(minWidth = 48.dp, minHeight = 48.dp)
                        .semantics { selected = current; if (rules.isNotEmpty()) contentDescription = name }
                        .clickable(role = Role.Tab) { scope.launch { state.moveTo(s) } }
                        .testTag("detail.stage.${s.name.lowercase()}"),
                ) {
                    Box(Modifier.padding(horizontal = 10.dp, vertical = 12.dp), contentAlignment = Alignment.Center) {
                        Text(
                            name + if (rules.isNotEmpty()) " *" else "",
                            color = if (current) MaterialTheme.colorScheme.onPrimary else MaterialTheme.colorScheme.onSurfaceVariant,
                            style = MaterialTheme.typography.labelLarge,
                        )
                    }
                }
            }
        }
        ui.errors[FormField.STAGE]?.let { Text(it, color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("detail.stage.error")) }
        // The deal value: where a stage rule's message shows when a quote needs one.
        Row(verticalAlignment = Alignment.Top, horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            LabeledField(
                t("field_deal_value"), ui.dealInput, state::editDeal, "detail.deal", ui.errors[FormField.DEAL_VALUE],
                keyboard = KeyboardType.Decimal, modifier = Modifier.weight(1f),
            )
            LabeledField(t("field_currency"), ui.dealCurrency, state::setCurrency, "detail.currency", modifier = Modifier.width(96.dp))
        }
        Button(onClick = { scope.launch { state.saveDeal() } }, modifier = Modifier.testTag("detail.saveDeal")) {
            Text(ui.pendingStage?.let { t("detail_save_and_move", stageLabelPlain(it, ui.stageName(it))) } ?: t("detail_save_deal"))
        }

        SectionTitle(t("detail_follow_up"))
        val date = state.followUpDate()
        Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            Text(date?.let { fmt.localDate(it) } ?: t("detail_no_follow_up"), modifier = Modifier.weight(1f).testTag("detail.followUp"))
            OutlinedButton(onClick = { scope.launch { state.followUpIn(1) } }, modifier = Modifier.testTag("detail.followUp.tomorrow")) { Text(t("detail_tomorrow")) }
            OutlinedButton(onClick = { scope.launch { state.followUpIn(7) } }, modifier = Modifier.testTag("detail.followUp.week")) { Text(t("detail_next_week")) }
        }

        SectionTitle(t("detail_timeline"))
        var subject by remember { mutableStateOf("") }
        LabeledField(t("detail_subject"), subject, { subject = it }, "detail.subject")
        FlowRow(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            for (k in listOf(ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.VISIT, ActivityKind.TASK, ActivityKind.NOTE)) {
                OutlinedButton(
                    onClick = { val s = subject.ifBlank { null }; scope.launch { state.log(k, s ?: "") }; subject = "" },
                    modifier = Modifier.testTag("detail.log.${k.name.lowercase()}"),
                ) { Text(t("log_" + k.name.lowercase())) }
            }
        }
        if (ui.activities.isEmpty()) Text(t("detail_no_activities"), color = MaterialTheme.colorScheme.onSurfaceVariant)
        for (a in ui.activities) {
            Row(Modifier.fillMaxWidth().padding(vertical = 4.dp).testTag("activity.${a.id}"), verticalAlignment = Alignment.CenterVertically) {
                Box(Modifier.width(4.dp).height(40.dp).background(if (a.done) MaterialTheme.colorScheme.primary else MaterialTheme.colorScheme.tertiary))
                Column(Modifier.weight(1f).padding(start = 8.dp)) {
                    Text(kindLabel(a.kind) + if (a.subject.isNotBlank()) " · ${a.subject}" else "", fontWeight = FontWeight.Medium)
                    val at = a.occurredAt ?: a.dueAt ?: a.createdAt
                    Text((if (!a.done && a.dueAt != null) t("detail_due", fmt.dateTime(at)) else fmt.dateTime(at)) + " · " + a.createdBy,
                        style = MaterialTheme.typography.bodySmall)
                }
                if (!a.done) TextButton(onClick = { scope.launch { state.complete(a) } }, modifier = Modifier.testTag("activity.${a.id}.done")) { Text(t("detail_mark_done")) }
            }
        }
    }
}

@Composable
private fun stageLabelPlain(s: Stage, custom: String?): String = stageLabel(s, custom)

@Composable
private fun ConflictCard(c: FieldConflict, onPick: (Int) -> Unit) {
    val fmt = LocalFormats.current
    Card(
        colors = CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.errorContainer),
        modifier = Modifier.fillMaxWidth().padding(vertical = 4.dp).testTag("conflict.${c.field}"),
    ) {
        Column(Modifier.padding(12.dp)) {
            Text(t("detail_conflict_title", conflictFieldLabel(c.field)), fontWeight = FontWeight.SemiBold, color = MaterialTheme.colorScheme.onErrorContainer)
            for ((i, v) in c.values.withIndex()) {
                Row(verticalAlignment = Alignment.CenterVertically) {
                    Text(conflictValue(c.field, v, fmt), modifier = Modifier.weight(1f), color = MaterialTheme.colorScheme.onErrorContainer)
                    Button(onClick = { onPick(i) }, modifier = Modifier.testTag("conflict.${c.field}.keep.$i")) { Text(t("detail_keep")) }
                }
            }
        }
    }
}

@Composable
private fun conflictFieldLabel(field: String): String = when (field) {
    "name" -> t("field_name")
    "company" -> t("field_company")
    "title" -> t("field_title")
    "stage" -> t("field_stage")
    "potential" -> t("field_potential")
    "deal" -> t("field_deal_value")
    "owner" -> t("field_owner")
    "next_follow_up" -> t("detail_follow_up")
    "source.event" -> t("field_event")
    "lost_reason" -> t("field_lost_reason")
    else -> field.removePrefix("custom.")
}

/** A conflicting value as the rep reads it: money and dates formatted, stages named. */
@Composable
private fun conflictValue(field: String, v: String, fmt: io.fieldsales.ui.i18n.Formats): String = when (field) {
    "deal" -> v.split(' ').let { p -> p.getOrNull(0)?.toLongOrNull()?.let { fmt.money(it, p.getOrElse(1) { "" }) } ?: v }
    "next_follow_up" -> v.toLongOrNull()?.let { fmt.date(it) } ?: v
    "stage" -> Stage.entries.firstOrNull { it.name.lowercase() == v }?.let { stageLabel(it) } ?: v
    else -> v
}
