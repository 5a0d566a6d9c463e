package io.fieldsales.ui.state

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

enum class Tab(val glyph: String) { LEADS("☰"), CAPTURE("+"), TODAY("◷"), SYNC("⇅"), TEAM("▦") }

/** Where the shell is: a tab, and a lead's detail over it. */
data class Nav(val tab: Tab = Tab.LEADS, val leadId: String? = null)

/** The screens' state holders for one signed-in store, and the navigation between them. */
class AppState(val session: Session, private val scope: CoroutineScope) {
    val leads = LeadListState(session, scope)
    val capture = CaptureState(session, scope)
    val today = TodayState(session, scope)
    val sync = SyncState(session, scope)
    val team = TeamState(session, scope)
    private val _nav = MutableStateFlow(Nav())
    val nav: StateFlow<Nav> = _nav.asStateFlow()
    private val _tabs = MutableStateFlow(Tab.entries.toList())

    /** The tabs the shell shows: Team only on a manager's or an admin's device (or a store not
     *  enrolled yet, which holds only its own user's work); a rep's device has no team to show. */
    val tabs: StateFlow<List<Tab>> = _tabs.asStateFlow()

    /** Reads the enrolled role and sets [tabs] from it. */
    suspend fun loadTabs() {
        val role = runCatching { session.call { role() } }.getOrNull()
        _tabs.value = if (role == "rep") Tab.entries.filter { it != Tab.TEAM } else Tab.entries.toList()
        if (role == "rep") _nav.update { if (it.tab == Tab.TEAM) Nav() else it }
    }

    fun start() {
        scope.launch { loadTabs() }
        leads.start()
        capture.start()
        today.start()
        sync.start()
        team.start()
    }

    fun stop() {
        leads.stop(); today.stop(); sync.stop()
    }

    fun show(tab: Tab) {
        _nav.update { Nav(tab = tab) }
        if (tab == Tab.TEAM) team.start()
    }

    fun open(leadId: String) = _nav.update { it.copy(leadId = leadId) }

    fun back() = _nav.update { it.copy(leadId = null) }

    fun detail(leadId: String) = LeadDetailState(session, scope, leadId)
}
