package io.fieldsales.ui.screens

import androidx.compose.foundation.Canvas
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Card
import androidx.compose.material3.FilterChip
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.CornerRadius
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.geometry.Size
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.style.TextAlign
import androidx.compose.ui.unit.dp
import io.fieldsales.kit.core.CountChange
import io.fieldsales.kit.core.Money
import io.fieldsales.kit.core.MoneyChange
import io.fieldsales.kit.core.ValueChange
import io.fieldsales.ui.i18n.Formats
import io.fieldsales.ui.state.TeamPeriod
import io.fieldsales.ui.state.TeamState

/** The team's report for a period, each figure with its change against the period before. */
@Composable
fun TeamScreen(state: TeamState) {
    val ui by state.ui.collectAsState()
    val fmt = LocalFormats.current
    Column(Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(12.dp)) {
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            for (p in TeamPeriod.entries) {
                FilterChip(ui.period == p, { state.select(p) }, { Text(t("period_" + p.name.lowercase())) }, modifier = Modifier.testTag("team.period.${p.name.lowercase()}"))
            }
        }
        if (ui.loading) LinearProgressIndicator(Modifier.fillMaxWidth())
        ui.problem?.let { ProblemCard(it) }
        val r = ui.report ?: return@Column
        val team = r.current.team
        val ch = r.change.team
        Text(
            t("team_period", fmt.date(r.current.period.start), fmt.date(r.current.period.end - 1)) + " · " +
                t("team_compared", fmt.date(r.previous.period.start), fmt.date(r.previous.period.end - 1)),
            style = MaterialTheme.typography.bodySmall, modifier = Modifier.testTag("team.range"),
        )
        SectionTitle(t("team_headline"))
        Row(Modifier.fillMaxWidth()) {
            Figure(t("team_win_rate"), team.winRate.rate?.let { fmt.percent(it) } ?: "—", pointsChange(ch.winRate, fmt), ch.winRate.better, "team.winRate", Modifier.weight(1f))
            Figure(t("team_won"), fmt.number(team.winRate.won.toLong()), countChange(ch.won, fmt), ch.won.better, "team.won", Modifier.weight(1f))
            Figure(t("team_lost"), fmt.number(team.winRate.lost.toLong()), countChange(ch.lost, fmt), ch.lost.better, "team.lost", Modifier.weight(1f))
        }
        Row(Modifier.fillMaxWidth()) {
            Figure(t("team_cycle"), team.salesCycle.averageDays?.let { t("days", fmt.decimal(it)) } ?: "—", valueChange(ch.cycleAverageDays, fmt) { t("days", it) }, ch.cycleAverageDays.better, "team.cycle", Modifier.weight(1f))
            Figure(t("team_captured"), fmt.number(team.captured.toLong()), countChange(ch.captured, fmt), ch.captured.better, "team.captured", Modifier.weight(1f))
            Figure(t("team_activities"), fmt.number(ch.activities.current), countChange(ch.activities, fmt), ch.activities.better, "team.activities", Modifier.weight(1f))
        }
        for (m in ch.wonValue) {
            Figure(t("team_won_value", m.currency), fmt.money(m.current, m.currency), moneyChange(m, fmt), m.better, "team.wonValue.${m.currency}")
        }

        SectionTitle(t("team_funnel"))
        val bars = ui.funnel
        val color = MaterialTheme.colorScheme.primary
        for ((i, b) in bars.withIndex()) {
            val label = stageLabel(b.stage, ui.stageName(b.stage))
            val delta = ch.funnel.getOrNull(i)?.reached
            Row(Modifier.fillMaxWidth().padding(vertical = 2.dp).testTag("team.funnel.${b.stage.name.lowercase()}"), verticalAlignment = Alignment.CenterVertically) {
                Text(label, modifier = Modifier.width(96.dp), style = MaterialTheme.typography.bodySmall)
                Canvas(Modifier.weight(1f).height(22.dp).semantics { contentDescription = "$label ${b.reached}" }) {
                    val w = size.width * b.fraction.coerceAtLeast(0.01f)
                    drawRoundRect(color.copy(alpha = 0.35f + 0.65f * b.fraction), topLeft = Offset((size.width - w) / 2f, 0f), size = Size(w, size.height), cornerRadius = CornerRadius(6f, 6f))
                }
                Text(
                    fmt.number(b.reached.toLong()) + (b.conversion?.let { " · " + fmt.percent(it) } ?: ""),
                    modifier = Modifier.width(86.dp), textAlign = TextAlign.End, style = MaterialTheme.typography.bodySmall,
                )
                Text(delta?.let { fmt.signedNumber(it.delta) } ?: "", modifier = Modifier.width(40.dp), textAlign = TextAlign.End, style = MaterialTheme.typography.labelSmall,
                    color = changeColor(delta?.better))
            }
        }

        SectionTitle(t("team_pipeline"))
        Text(t("team_pipeline_now"), style = MaterialTheme.typography.bodySmall, color = MaterialTheme.colorScheme.onSurfaceVariant)
        Row(Modifier.fillMaxWidth()) {
            Text(t("field_stage"), Modifier.weight(1.2f), style = MaterialTheme.typography.labelMedium)
            Text(t("team_leads"), Modifier.weight(0.6f), style = MaterialTheme.typography.labelMedium, textAlign = TextAlign.End)
            Text(t("team_value"), Modifier.weight(1.4f), style = MaterialTheme.typography.labelMedium, textAlign = TextAlign.End)
            Text(t("team_weighted"), Modifier.weight(1.4f), style = MaterialTheme.typography.labelMedium, textAlign = TextAlign.End)
        }
        for (p in team.pipeline) {
            Row(Modifier.fillMaxWidth().testTag("team.pipeline.${p.stage.name.lowercase()}")) {
                Text(stageLabel(p.stage, ui.stageName(p.stage)) + " · " + fmt.bp(p.probabilityBp.toLong()), Modifier.weight(1.2f), style = MaterialTheme.typography.bodySmall)
                Text(fmt.number(p.leads.toLong()), Modifier.weight(0.6f), textAlign = TextAlign.End, style = MaterialTheme.typography.bodySmall)
                Text(moneyList(p.value, fmt), Modifier.weight(1.4f).testTag("team.pipeline.${p.stage.name.lowercase()}.value"), textAlign = TextAlign.End, style = MaterialTheme.typography.bodySmall)
                Text(moneyList(p.weighted, fmt), Modifier.weight(1.4f).testTag("team.pipeline.${p.stage.name.lowercase()}.weighted"), textAlign = TextAlign.End, style = MaterialTheme.typography.bodySmall)
            }
        }

        SectionTitle(t("team_response"))
        val rt = team.responseTime
        Row(Modifier.fillMaxWidth()) {
            Figure(t("team_within_5m"), rt.within5Minutes?.let { fmt.percent(it) } ?: "—", pointsChange(ch.within5Minutes, fmt), ch.within5Minutes.better, "team.within5m", Modifier.weight(1f))
            Figure(t("team_within_1h"), rt.within1Hour?.let { fmt.percent(it) } ?: "—", pointsChange(ch.within1Hour, fmt), ch.within1Hour.better, "team.within1h", Modifier.weight(1f))
            Figure(t("team_within_24h"), rt.within24Hours?.let { fmt.percent(it) } ?: "—", pointsChange(ch.within24Hours, fmt), ch.within24Hours.better, "team.within24h", Modifier.weight(1f))
        }

        if (ui.targets.isNotEmpty()) SectionTitle(t("team_targets"))
        val barColor = MaterialTheme.colorScheme.secondary
        val track = MaterialTheme.colorScheme.surfaceVariant
        for (tb in ui.targets) {
            val tg = tb.attainment.target
            val p = tb.attainment.progress
            val value = { v: Long -> tg.currency?.let { fmt.money(v, it) } ?: fmt.number(v) }
            Column(Modifier.fillMaxWidth().padding(vertical = 4.dp).testTag("team.target.${tg.id}")) {
                Text(t("metric_" + tg.metric.name.lowercase()) + " · " + tg.subject, fontWeight = FontWeight.Medium)
                Text(
                    t("team_attainment", value(p.actual), value(p.target), p.attainmentBp?.let { fmt.bp(it) } ?: "—") +
                        (tb.change?.attainmentBpDelta?.let { " · " + t("team_vs_prev", fmt.signedDecimal(it / 100.0) + " pp") } ?: ""),
                    style = MaterialTheme.typography.bodySmall, modifier = Modifier.testTag("team.target.${tg.id}.text"),
                )
                Canvas(Modifier.fillMaxWidth().height(12.dp).semantics { contentDescription = p.attainmentBp?.let { fmt.bp(it) } ?: "—" }) {
                    drawRoundRect(track, size = size, cornerRadius = CornerRadius(6f, 6f))
                    drawRoundRect(barColor, size = Size(size.width * tb.fraction, size.height), cornerRadius = CornerRadius(6f, 6f))
                }
            }
        }

        SectionTitle(t("team_reps"))
        for (rep in ui.reps) {
            val f = rep.figures
            val c = rep.change
            Card(Modifier.fillMaxWidth().padding(vertical = 4.dp).testTag("team.rep.${rep.owner}")) {
                Column(Modifier.padding(10.dp)) {
                    Text(rep.owner, fontWeight = FontWeight.SemiBold)
                    Row(Modifier.fillMaxWidth()) {
                        Figure(t("team_win_rate"), f.winRate.rate?.let { fmt.percent(it) } ?: "—", c?.let { pointsChange(it.winRate, fmt) }, c?.winRate?.better, "team.rep.${rep.owner}.winRate", Modifier.weight(1f))
                        Figure(t("team_won"), fmt.number(f.winRate.won.toLong()), c?.let { countChange(it.won, fmt) }, c?.won?.better, "team.rep.${rep.owner}.won", Modifier.weight(1f))
                        Figure(t("team_captured"), fmt.number(f.captured.toLong()), c?.let { countChange(it.captured, fmt) }, c?.captured?.better, "team.rep.${rep.owner}.captured", Modifier.weight(1f))
                    }
                    for (m in c?.wonValue.orEmpty()) Figure(t("team_won_value", m.currency), fmt.money(m.current, m.currency), moneyChange(m, fmt), m.better, "team.rep.${rep.owner}.wonValue.${m.currency}")
                    rep.commission?.let { com ->
                        for (m in com.commission) {
                            val mc = rep.commissionChange?.commission?.firstOrNull { it.currency == m.currency }
                            Figure(t("team_commission"), fmt.money(m), mc?.let { moneyChange(it, fmt) }, mc?.better, "team.rep.${rep.owner}.commission.${m.currency}")
                        }
                    }
                }
            }
        }
    }
}

@Composable
private fun changeColor(better: Boolean?) = when (better) {
    true -> LocalChangeColors.current.better
    false -> LocalChangeColors.current.worse
    null -> MaterialTheme.colorScheme.onSurfaceVariant
}

private fun moneyList(list: List<Money>, fmt: Formats) = if (list.isEmpty()) "—" else list.joinToString("\n") { fmt.money(it) }

@Composable
private fun countChange(c: CountChange, fmt: Formats): String = t("team_vs_prev", fmt.signedNumber(c.delta))

@Composable
private fun moneyChange(m: MoneyChange, fmt: Formats): String = t("team_vs_prev", fmt.moneyDelta(m.delta, m.currency))

/** A share's change in percentage points. */
@Composable
private fun pointsChange(v: ValueChange, fmt: Formats): String =
    v.delta?.let { t("team_vs_prev", t("points", fmt.signedDecimal(it * 100))) } ?: t("team_no_prev")

@Composable
private fun valueChange(v: ValueChange, fmt: Formats, unit: @Composable (String) -> String): String =
    v.delta?.let { t("team_vs_prev", unit(fmt.signedDecimal(it))) } ?: t("team_no_prev")
