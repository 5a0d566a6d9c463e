package io.fieldsales.ui.state

import io.fieldsales.kit.core.LeadFacets
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.core.Potential
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.ffi.LeadListItem
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/** The list's filters and order; `null` means "any". */
data class LeadFilters(
    val stage: Stage? = null,
    val potential: Potential? = null,
    val tag: String? = null,
    val event: String? = null,
    val sort: LeadSort = LeadSort.UPDATED,
) {
    val active: Int get() = listOfNotNull(stage, potential, tag, event).size

    fun toQuery(limit: UInt, after: String? = null) = LeadQuery(
        stages = listOfNotNull(stage),
        potential = potential,
        tag = tag,
        event = event,
        sort = sort,
        limit = limit,
        after = after,
    )

    /** The same filters over search results (which the core ranks by relevance). */
    fun matches(i: LeadListItem): Boolean {
        val l = i.summary
        return (stage == null || l.stage == stage) && (potential == null || l.potential == potential) &&
            (tag == null || tag in l.tags) && (event == null || l.event == event)
    }
}

data class LeadListUi(
    val items: List<LeadListItem> = emptyList(),
    /** More pages after these (keyset cursor held by the state holder). */
    val hasMore: Boolean = false,
    val loading: Boolean = true,
    val search: String = "",
    val filters: LeadFilters = LeadFilters(),
    val facets: LeadFacets = LeadFacets(emptyList(), emptyList()),
    val problem: ProblemReport? = null,
) {
    val searching: Boolean get() = search.isNotBlank()
    val unsyncedShown: Int get() = items.count { it.unsynced }
    val conflictsShown: Int get() = items.count { it.summary.hasConflicts }
}

/**
 * The Leads screen: the first page at once, the next when the list nears its end (keyset
 * pages of [pageSize] from the core: only the pages scrolled to are in memory), search as the rep
 * types, filters, sort, and refreshes after every local write or merge from sync.
 */
class LeadListState(private val session: Session, private val scope: CoroutineScope, val pageSize: UInt = 50u) {
    private val _ui = MutableStateFlow(LeadListUi())
    val ui: StateFlow<LeadListUi> = _ui.asStateFlow()
    private var next: String? = null
    private var job: Job? = null
    private var watching: Job? = null

    /** Loads the first page and keeps the list current while [scope] lives. */
    fun start() {
        reload()
        loadFacets()
        if (watching == null) {
            watching = scope.launch {
                session.kit.changes().collect { if (it.leads.isNotEmpty()) refresh() }
            }
        }
    }

    fun stop() {
        watching?.cancel()
        watching = null
    }

    fun onSearchChange(text: String) {
        _ui.update { it.copy(search = text) }
        reload()
    }

    fun setFilters(filters: LeadFilters) {
        _ui.update { it.copy(filters = filters) }
        reload()
    }

    fun clearFilters() = setFilters(LeadFilters(sort = _ui.value.filters.sort))

    /** The next page, if there is one and none is loading. */
    fun loadMore() {
        val cursor = next ?: return
        if (_ui.value.loading || _ui.value.searching) return
        _ui.update { it.copy(loading = true) }
        job = scope.launch {
            runCatching { session.call { listPage(_ui.value.filters.toQuery(pageSize, cursor)) } }
                .onSuccess { page ->
                    next = page.next
                    _ui.update { it.copy(items = it.items + page.items, hasMore = page.next != null, loading = false) }
                }
                .onFailure { e -> _ui.update { it.copy(loading = false, problem = problemOf(e)) } }
        }
    }

    /** After a change: the pages shown so far again (up to the core's 500 a page), keeping the place. */
    fun refresh() {
        val shown = _ui.value.items.size.toUInt().coerceIn(pageSize, 500u)
        load(shown)
        loadFacets()
    }

    private fun reload() = load(pageSize)

    private fun load(limit: UInt) {
        job?.cancel()
        val state = _ui.value
        _ui.update { it.copy(loading = true) }
        job = scope.launch {
            runCatching {
                if (state.searching) {
                    session.call { searchPage(state.search, 200u) }.filter(state.filters::matches) to null
                } else {
                    val page = session.call { listPage(state.filters.toQuery(limit)) }
                    page.items to page.next
                }
            }.onSuccess { (items, cursor) ->
                next = cursor
                _ui.update { it.copy(items = items, hasMore = cursor != null, loading = false, problem = null) }
            }.onFailure { e ->
                if (e !is kotlinx.coroutines.CancellationException) _ui.update { it.copy(loading = false, problem = problemOf(e)) }
            }
        }
    }

    private fun loadFacets() {
        scope.launch { runCatching { session.call { leadFacets(20u) } }.onSuccess { f -> _ui.update { it.copy(facets = f) } } }
    }
}
