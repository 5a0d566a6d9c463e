package io.fieldsales.ui.state

import io.fieldsales.kit.core.FollowUp
import io.fieldsales.kit.core.FollowUps
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import java.time.Instant
import java.time.LocalDate

data class TodayUi(
    val followUps: FollowUps = FollowUps(emptyList(), emptyList(), emptyList()),
    /** The rep's local date the lists are for. */
    val date: LocalDate? = null,
    val loading: Boolean = true,
    val problem: ProblemReport? = null,
) {
    /** Open tasks among all three lists (a follow-up without an activity is the lead's date). */
    val openTasks: List<FollowUp> get() = (followUps.overdue + followUps.today + followUps.upcoming).filter { it.activityId != null }
    val isEmpty: Boolean get() = followUps.overdue.isEmpty() && followUps.today.isEmpty() && followUps.upcoming.isEmpty()
}

/**
 * The Today screen: follow-ups and open tasks overdue, due later today and in the next seven
 * days, by the rep's own clock and time zone (the core splits the days at local midnight).
 */
class TodayState(private val session: Session, private val scope: CoroutineScope) {
    private val _ui = MutableStateFlow(TodayUi())
    val ui: StateFlow<TodayUi> = _ui.asStateFlow()
    private var watching: Job? = null

    fun start() {
        scope.launch { load() }
        if (watching == null) watching = scope.launch { session.kit.changes().collect { load() } }
    }

    fun stop() {
        watching?.cancel()
        watching = null
    }

    suspend fun load() {
        val now = session.now()
        runCatching { session.call { followUps(now, session.timeZone) } }
            .onSuccess { f ->
                _ui.update { it.copy(followUps = f, date = Instant.ofEpochMilli(now).atZone(session.zone).toLocalDate(), loading = false, problem = null) }
            }
            .onFailure { e -> _ui.update { it.copy(loading = false, problem = problemOf(e)) } }
    }

    /** Marks an open task done. */
    suspend fun complete(item: FollowUp) {
        val id = item.activityId ?: return
        runCatching { session.call { completeActivity(id) } }.onFailure { e -> _ui.update { it.copy(problem = problemOf(e)) } }
        load()
    }
}
