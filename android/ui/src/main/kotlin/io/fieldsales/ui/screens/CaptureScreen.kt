package io.fieldsales.ui.screens

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.FlowRow
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.FilterChip
import androidx.compose.material3.InputChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.LiveRegionMode
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.liveRegion
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import io.fieldsales.kit.core.FormField
import io.fieldsales.kit.core.Potential
import io.fieldsales.ui.state.CaptureState

/**
 * Capture at a booth: the four contact fields first, potential in one tap, the event kept from the
 * last capture, then tags and notes. [clipboard] reads pasted or scanned text (the platform's
 * clipboard or a scanner's result).
 */
@Composable
fun CaptureScreen(state: CaptureState, clipboard: () -> String?, onOpenLead: (String) -> Unit) {
    val ui by state.ui.collectAsState()
    val f = ui.form
    val unsure = t("capture_check")
    var pasteBox by remember { mutableStateOf(false) }
    var pasted by remember { mutableStateOf("") }
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(12.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
        FlowRow(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedButton(onClick = { clipboard()?.let(state::paste) ?: run { pasteBox = true } }, modifier = Modifier.testTag("capture.paste")) {
                Text(t("capture_paste"))
            }
            TextButton(onClick = { pasteBox = !pasteBox }, modifier = Modifier.testTag("capture.pasteBox")) { Text(t("capture_scan_text")) }
        }
        if (pasteBox) {
            LabeledField(t("capture_scan_label"), pasted, { pasted = it }, "capture.pasteText", singleLine = false)
            Button(onClick = { state.paste(pasted); pasted = ""; pasteBox = false }, modifier = Modifier.testTag("capture.read")) { Text(t("capture_read")) }
        }
        ui.pasteProblem?.let { ProblemCard(it, "capture.pasteProblem") }
        ui.saved?.let {
            Text(
                t("capture_saved", it.name ?: it.company ?: it.emails.firstOrNull() ?: ""),
                color = MaterialTheme.colorScheme.secondary,
                modifier = Modifier.testTag("capture.saved").semantics { liveRegion = LiveRegionMode.Polite },
            )
        }
        ui.formError?.let { Text(it, color = MaterialTheme.colorScheme.error, modifier = Modifier.testTag("capture.formError")) }

        val err = ui.errors
        LabeledField(t("field_name"), f.name, { v -> state.edit(FormField.NAME) { it.copy(name = v) } }, "capture.name", err[FormField.NAME], unsure.takeIf { FormField.NAME in ui.unsure })
        LabeledField(t("field_company"), f.company, { v -> state.edit(FormField.COMPANY) { it.copy(company = v) } }, "capture.company", err[FormField.COMPANY], unsure.takeIf { FormField.COMPANY in ui.unsure })
        LabeledField(t("field_phone"), f.phone, { v -> state.edit(FormField.PHONE) { it.copy(phone = v) } }, "capture.phone", err[FormField.PHONE], unsure.takeIf { FormField.PHONE in ui.unsure }, KeyboardType.Phone)
        LabeledField(t("field_email"), f.email, { v -> state.edit(FormField.EMAIL) { it.copy(email = v) } }, "capture.email", err[FormField.EMAIL], unsure.takeIf { FormField.EMAIL in ui.unsure }, KeyboardType.Email)

        if (ui.duplicates.isNotEmpty()) {
            Card(
                colors = CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.tertiaryContainer),
                modifier = Modifier.fillMaxWidth().testTag("capture.duplicate").semantics { liveRegion = LiveRegionMode.Polite },
            ) {
                Column(Modifier.padding(12.dp)) {
                    Text(t("capture_duplicate_title"), fontWeight = FontWeight.SemiBold, color = MaterialTheme.colorScheme.onTertiaryContainer)
                    for (d in ui.duplicates.take(3)) {
                        Text(
                            t("capture_duplicate_line", listOfNotNull(d.name, d.company).joinToString(", "), d.capturedBy),
                            modifier = Modifier.padding(top = 4.dp).testTag("capture.duplicate.${d.leadId}"),
                            color = MaterialTheme.colorScheme.onTertiaryContainer,
                        )
                        TextButton(onClick = { state.clear(); onOpenLead(d.leadId) }, modifier = Modifier.testTag("capture.openInstead.${d.leadId}")) {
                            Text(t("capture_open_instead"))
                        }
                    }
                }
            }
        }

        Text(t("field_potential"), style = MaterialTheme.typography.labelLarge, modifier = Modifier.padding(top = 4.dp))
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            for (p in Potential.entries) {
                FilterChip(
                    selected = f.potential == p,
                    onClick = { state.tapPotential(p) },
                    label = { Text(potentialLabel(p)) },
                    modifier = Modifier.testTag("capture.potential.${p.name.lowercase()}"),
                )
            }
        }
        LabeledField(t("field_event"), f.event, { v -> state.edit(FormField.EVENT) { it.copy(event = v) } }, "capture.event", err[FormField.EVENT],
            t("capture_event_kept").takeIf { f.event.isNotBlank() })
        LabeledField(t("field_title"), f.title, { v -> state.edit(FormField.TITLE) { it.copy(title = v) } }, "capture.title", err[FormField.TITLE], unsure.takeIf { FormField.TITLE in ui.unsure })
        Row(verticalAlignment = Alignment.CenterVertically) {
            LabeledField(t("field_tag"), f.tagInput, { v -> state.edit(FormField.TAGS) { it.copy(tagInput = v) } }, "capture.tag", err[FormField.TAGS], modifier = Modifier.weight(1f))
            TextButton(onClick = state::addTag, modifier = Modifier.testTag("capture.addTag")) { Text(t("capture_add_tag")) }
        }
        if (f.tags.isNotEmpty()) {
            FlowRow(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
                for (tag in f.tags) {
                    InputChip(selected = false, onClick = { state.removeTag(tag) }, label = { Text("#$tag") },
                        modifier = Modifier.testTag("capture.tag.$tag").semantics { contentDescription = "#$tag" })
                }
            }
        }
        LabeledField(t("field_notes"), f.notes, { v -> state.edit(FormField.NOTES) { it.copy(notes = v) } }, "capture.notes", err[FormField.NOTES], singleLine = false)
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp), modifier = Modifier.padding(top = 8.dp)) {
            Button(onClick = { state.saveAsync() }, enabled = !ui.saving, modifier = Modifier.weight(1f).testTag("capture.save")) { Text(t("capture_save")) }
            OutlinedButton(onClick = state::clear, modifier = Modifier.testTag("capture.clear")) { Text(t("capture_clear")) }
        }
    }
}
