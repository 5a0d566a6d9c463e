package io.fieldsales.ui.screens

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.staticCompositionLocalOf
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.error
import androidx.compose.ui.semantics.heading
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.ui.unit.dp
import io.fieldsales.kit.core.ActivityKind
import io.fieldsales.kit.core.Potential
import io.fieldsales.kit.core.Stage
import io.fieldsales.ui.i18n.Formats
import io.fieldsales.ui.i18n.Text
import io.fieldsales.ui.state.ProblemReport

val LocalText = staticCompositionLocalOf<Text> { error("no Text provided") }
val LocalFormats = staticCompositionLocalOf<Formats> { error("no Formats provided") }

/** Good news and bad news colours of the changes against the previous period. */
data class ChangeColors(val better: Color, val worse: Color)

val LocalChangeColors = staticCompositionLocalOf { ChangeColors(Color(0xFF1B7F3B), Color(0xFFB3261E)) }

@Composable
fun FieldsalesTheme(dark: Boolean, text: Text, formats: Formats, content: @Composable () -> Unit) {
    val colors = if (dark) {
        darkColorScheme(primary = Color(0xFF8AB4F8), secondary = Color(0xFF9CCBA8), tertiary = Color(0xFFFFB870))
    } else {
        lightColorScheme(primary = Color(0xFF1F5FBF), secondary = Color(0xFF2E7D4F), tertiary = Color(0xFFB85C00))
    }
    val change = if (dark) ChangeColors(Color(0xFF7FD99A), Color(0xFFFF9C94)) else ChangeColors(Color(0xFF1B7F3B), Color(0xFFB3261E))
    CompositionLocalProvider(LocalText provides text, LocalFormats provides formats, LocalChangeColors provides change) {
        MaterialTheme(colorScheme = colors, content = content)
    }
}

@Composable
fun t(key: String): String = LocalText.current[key]

@Composable
fun t(key: String, vararg args: Any): String = LocalText.current.format(key, *args)

@Composable
fun stageLabel(s: Stage, custom: String? = null): String = custom ?: t("stage_" + s.name.lowercase())

@Composable
fun potentialLabel(p: Potential): String = t("potential_" + p.name.lowercase())

@Composable
fun kindLabel(k: ActivityKind): String = t("kind_" + k.name.lowercase())

@Composable
fun SectionTitle(text: String, modifier: Modifier = Modifier) {
    Text(
        text,
        style = MaterialTheme.typography.titleMedium,
        fontWeight = FontWeight.SemiBold,
        modifier = modifier.padding(top = 12.dp, bottom = 4.dp).semantics { heading() },
    )
}

/**
 * A labelled text field that shows the core's message for it underneath (and to screen readers
 * as the field's error).
 */
@Composable
fun LabeledField(
    label: String,
    value: String,
    onChange: (String) -> Unit,
    tag: String,
    error: String? = null,
    note: String? = null,
    keyboard: KeyboardType = KeyboardType.Text,
    singleLine: Boolean = true,
    modifier: Modifier = Modifier,
) {
    OutlinedTextField(
        value = value,
        onValueChange = onChange,
        label = { Text(label) },
        isError = error != null,
        singleLine = singleLine,
        minLines = if (singleLine) 1 else 3,
        keyboardOptions = KeyboardOptions(keyboardType = keyboard),
        supportingText = when {
            // The core's message is English; other languages put their own words first.
            error != null -> { { Text(localizedError(label, error), modifier = Modifier.testTag("$tag.error")) } }
            note != null -> { { Text(note, color = MaterialTheme.colorScheme.tertiary) } }
            else -> null
        },
        modifier = modifier.fillMaxWidth().testTag(tag).semantics { if (error != null) error(error) },
    )
}

/** The core's (English) message, after a line in the rep's language when that is not English. */
@Composable
fun localizedError(label: String, message: String): String =
    if (LocalText.current.locale.language == "en") message else t("error_check_field", label) + "\n" + message

/** What went wrong in plain words, with the core's message below. */
@Composable
fun ProblemCard(p: ProblemReport, tag: String = "problem") {
    Card(
        colors = CardDefaults.cardColors(containerColor = MaterialTheme.colorScheme.errorContainer),
        modifier = Modifier.fillMaxWidth().padding(vertical = 8.dp).testTag(tag).semantics(mergeDescendants = true) {},
    ) {
        Column(Modifier.padding(12.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            Text(t(p.problem.key), color = MaterialTheme.colorScheme.onErrorContainer, fontWeight = FontWeight.SemiBold)
            Text(p.detail, color = MaterialTheme.colorScheme.onErrorContainer, style = MaterialTheme.typography.bodySmall)
        }
    }
}

/** A figure with its label and, beneath, its change against the previous period. */
@Composable
fun Figure(label: String, value: String, change: String?, better: Boolean?, tag: String, modifier: Modifier = Modifier) {
    val colors = LocalChangeColors.current
    Column(modifier.padding(4.dp).testTag(tag)) {
        Text(label, style = MaterialTheme.typography.labelMedium, color = MaterialTheme.colorScheme.onSurfaceVariant)
        Text(value, style = MaterialTheme.typography.titleLarge, fontWeight = FontWeight.SemiBold, modifier = Modifier.testTag("$tag.value"))
        if (change != null) {
            Text(
                change,
                style = MaterialTheme.typography.labelSmall,
                color = when (better) {
                    true -> colors.better
                    false -> colors.worse
                    null -> MaterialTheme.colorScheme.onSurfaceVariant
                },
                modifier = Modifier.testTag("$tag.change"),
            )
        }
    }
}

@Composable
fun KeyValue(key: String, value: String, modifier: Modifier = Modifier) {
    Row(modifier.fillMaxWidth().padding(vertical = 2.dp).semantics(mergeDescendants = true) {}, horizontalArrangement = Arrangement.SpaceBetween) {
        Text(key, color = MaterialTheme.colorScheme.onSurfaceVariant, modifier = Modifier.weight(1f))
        Text(value, modifier = Modifier.weight(1.4f))
    }
}
