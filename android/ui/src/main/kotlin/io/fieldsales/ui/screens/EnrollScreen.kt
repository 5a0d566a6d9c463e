package io.fieldsales.ui.screens

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.ui.state.EnrollState

/** Enrolling this device: server address, one-time code (typed or pasted), device name. */
@Composable
fun EnrollScreen(state: EnrollState, clipboard: () -> String?, onEnrolled: (FieldSalesKit) -> Unit) {
    val ui by state.ui.collectAsState()
    val needed = t("enroll_needed")
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
        Text(t("enroll_title"), style = MaterialTheme.typography.headlineSmall)
        Text(t("enroll_intro"), style = MaterialTheme.typography.bodyMedium)
        LabeledField(t("enroll_server"), ui.server, state::editServer, "enroll.server", needed.takeIf { "enroll_server" in ui.missing }, keyboard = KeyboardType.Uri)
        Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(6.dp)) {
            LabeledField(t("enroll_code"), ui.code, state::editCode, "enroll.code", needed.takeIf { "enroll_code" in ui.missing }, modifier = Modifier.weight(1f))
            OutlinedButton(onClick = { clipboard()?.let(state::editCode) }, modifier = Modifier.testTag("enroll.paste")) { Text(t("enroll_paste")) }
        }
        LabeledField(t("enroll_device"), ui.deviceName, state::editDeviceName, "enroll.device", needed.takeIf { "enroll_device" in ui.missing })
        if (ui.busy) LinearProgressIndicator(Modifier.fillMaxWidth())
        ui.problem?.let { ProblemCard(it, "enroll.problem") }
        Button(onClick = { state.enrollAsync(onEnrolled) }, enabled = !ui.busy, modifier = Modifier.fillMaxWidth().testTag("enroll.submit")) { Text(t("enroll_submit")) }
    }
}
