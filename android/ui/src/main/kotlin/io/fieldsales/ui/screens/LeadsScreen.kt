package io.fieldsales.ui.screens

import androidx.compose.foundation.clickable
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.lazy.rememberLazyListState
import androidx.compose.foundation.rememberScrollState
import androidx.compose.material3.AssistChip
import androidx.compose.material3.Badge
import androidx.compose.material3.FilterChip
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.derivedStateOf
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.testTag
import androidx.compose.ui.semantics.contentDescription
import androidx.compose.ui.semantics.semantics
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.style.TextOverflow
import androidx.compose.ui.unit.dp
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.core.Potential
import io.fieldsales.kit.ffi.LeadListItem
import io.fieldsales.ui.state.LeadListState
import io.fieldsales.ui.state.STEPPER

/** The rep's leads: search as they type, filters, sort, marks, keyset pages as they scroll. */
@Composable
fun LeadsScreen(state: LeadListState, onOpen: (String) -> Unit) {
    val ui by state.ui.collectAsState()
    val list = rememberLazyListState()
    var showFilters by remember { mutableStateOf(false) }
    // Near the end of what is loaded: the next page.
    val nearEnd by remember { derivedStateOf { (list.layoutInfo.visibleItemsInfo.lastOrNull()?.index ?: 0) >= list.layoutInfo.totalItemsCount - 10 } }
    LaunchedEffect(nearEnd, ui.items.size) { if (nearEnd && ui.hasMore) state.loadMore() }

    Column(Modifier.fillMaxSize().padding(horizontal = 12.dp)) {
        OutlinedTextField(
            value = ui.search,
            onValueChange = state::onSearchChange,
            label = { Text(t("leads_search")) },
            singleLine = true,
            modifier = Modifier.fillMaxWidth().padding(top = 8.dp).testTag("leads.search"),
        )
        Row(
            Modifier.fillMaxWidth().horizontalScroll(rememberScrollState()).padding(vertical = 4.dp),
            horizontalArrangement = Arrangement.spacedBy(6.dp),
            verticalAlignment = Alignment.CenterVertically,
        ) {
            FilterChip(
                selected = ui.filters.active > 0,
                onClick = { showFilters = !showFilters },
                label = { Text(if (ui.filters.active > 0) t("leads_filters_n", ui.filters.active) else t("leads_filters")) },
                modifier = Modifier.testTag("leads.filters"),
            )
            for (s in listOf(LeadSort.UPDATED, LeadSort.CREATED, LeadSort.NAME, LeadSort.VALUE)) {
                FilterChip(
                    selected = ui.filters.sort == s,
                    onClick = { state.setFilters(ui.filters.copy(sort = s)) },
                    label = { Text(t("sort_" + s.name.lowercase())) },
                    modifier = Modifier.testTag("leads.sort.${s.name.lowercase()}"),
                )
            }
        }
        if (showFilters) Filters(state)
        if (ui.loading) LinearProgressIndicator(Modifier.fillMaxWidth().testTag("leads.loading"))
        ui.problem?.let { ProblemCard(it) }
        if (!ui.loading && ui.items.isEmpty()) {
            Text(
                if (ui.searching) t("leads_no_match", ui.search) else t("leads_empty"),
                modifier = Modifier.padding(16.dp).testTag("leads.empty"),
                color = MaterialTheme.colorScheme.onSurfaceVariant,
            )
        }
        LazyColumn(state = list, modifier = Modifier.fillMaxSize().testTag("leads.list")) {
            items(ui.items, key = { it.summary.id }) { item ->
                LeadRow(item, onOpen)
                HorizontalDivider()
            }
        }
    }
}

@Composable
private fun Filters(state: LeadListState) {
    val ui by state.ui.collectAsState()
    val f = ui.filters
    Column(Modifier.fillMaxWidth().padding(bottom = 4.dp).testTag("leads.filterPanel")) {
        ChipRow(t("filter_stage")) {
            for (s in STEPPER) {
                FilterChip(f.stage == s, { state.setFilters(f.copy(stage = if (f.stage == s) null else s)) }, { Text(stageLabel(s)) },
                    modifier = Modifier.testTag("filter.stage.${s.name.lowercase()}"))
            }
        }
        ChipRow(t("filter_potential")) {
            for (p in Potential.entries) {
                FilterChip(f.potential == p, { state.setFilters(f.copy(potential = if (f.potential == p) null else p)) }, { Text(potentialLabel(p)) },
                    modifier = Modifier.testTag("filter.potential.${p.name.lowercase()}"))
            }
        }
        if (ui.facets.events.isNotEmpty()) {
            ChipRow(t("filter_event")) {
                for (e in ui.facets.events) {
                    FilterChip(f.event == e.value, { state.setFilters(f.copy(event = if (f.event == e.value) null else e.value)) },
                        { Text("${e.value} (${e.leads})") }, modifier = Modifier.testTag("filter.event.${e.value}"))
                }
            }
        }
        if (ui.facets.tags.isNotEmpty()) {
            ChipRow(t("filter_tag")) {
                for (g in ui.facets.tags) {
                    FilterChip(f.tag == g.value, { state.setFilters(f.copy(tag = if (f.tag == g.value) null else g.value)) },
                        { Text("#${g.value} (${g.leads})") }, modifier = Modifier.testTag("filter.tag.${g.value}"))
                }
            }
        }
        if (f.active > 0) AssistChip(onClick = state::clearFilters, label = { Text(t("filter_clear")) }, modifier = Modifier.testTag("filter.clear"))
    }
}

@Composable
private fun ChipRow(label: String, chips: @Composable () -> Unit) {
    Row(Modifier.fillMaxWidth().horizontalScroll(rememberScrollState()), verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(6.dp)) {
        Text(label, style = MaterialTheme.typography.labelMedium)
        chips()
    }
}

@Composable
private fun LeadRow(item: LeadListItem, onOpen: (String) -> Unit) {
    val l = item.summary
    val fmt = LocalFormats.current
    val marks = listOfNotNull(if (item.unsynced) t("mark_unsynced") else null, if (l.hasConflicts) t("mark_conflict") else null)
    Row(
        Modifier.fillMaxWidth().heightIn(min = 56.dp).clickable { onOpen(l.id) }.padding(vertical = 8.dp)
            .testTag("lead.${l.id}")
            .semantics(mergeDescendants = true) { if (marks.isNotEmpty()) contentDescription = (listOf(l.displayName) + marks).joinToString(", ") },
        verticalAlignment = Alignment.CenterVertically,
    ) {
        Column(Modifier.weight(1f)) {
            Text(l.displayName, fontWeight = FontWeight.SemiBold, maxLines = 1, overflow = TextOverflow.Ellipsis)
            val sub = listOfNotNull(l.company, l.event).joinToString(" · ")
            if (sub.isNotEmpty()) Text(sub, style = MaterialTheme.typography.bodySmall, maxLines = 1, overflow = TextOverflow.Ellipsis)
            Row(horizontalArrangement = Arrangement.spacedBy(6.dp)) {
                Text(stageLabel(l.stage), style = MaterialTheme.typography.labelSmall, color = MaterialTheme.colorScheme.primary)
                l.potential?.let { Text(potentialLabel(it), style = MaterialTheme.typography.labelSmall, color = MaterialTheme.colorScheme.tertiary) }
                l.dealValue?.let { Text(fmt.money(it), style = MaterialTheme.typography.labelSmall) }
            }
        }
        Column(horizontalAlignment = Alignment.End, verticalArrangement = Arrangement.spacedBy(2.dp)) {
            if (item.unsynced) Badge(containerColor = MaterialTheme.colorScheme.tertiary, modifier = Modifier.testTag("lead.${l.id}.unsynced")) { Text(t("mark_unsynced")) }
            if (l.hasConflicts) Badge(modifier = Modifier.testTag("lead.${l.id}.conflict")) { Text(t("mark_conflict")) }
        }
    }
}

