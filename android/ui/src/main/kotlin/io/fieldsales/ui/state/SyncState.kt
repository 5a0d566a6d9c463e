package io.fieldsales.ui.state

import io.fieldsales.kit.core.SyncPhase
import io.fieldsales.kit.core.SyncStatus
import io.fieldsales.kit.core.SyncSummary
import io.fieldsales.kit.ffi.CancelHandle
import io.fieldsales.kit.ffi.QuarantineEntry
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import java.io.File

/** A running sync's place: `done` of `total` in the phase. */
data class SyncRun(val phase: SyncPhase? = null, val done: ULong = 0u, val total: ULong = 0u) {
    /** 0 to 1 over both phases: pushing is the first half, pulling the second. */
    val fraction: Float
        get() {
            val inPhase = if (total == 0uL) 0f else (done.toFloat() / total.toFloat()).coerceIn(0f, 1f)
            return when (phase) {
                null -> 0f
                SyncPhase.PUSH -> inPhase / 2f
                SyncPhase.PULL -> 0.5f + inPhase / 2f
            }
        }
}

/** Signing out or removing the store, waiting for the rep's yes while changes are unsynced. */
data class RemoveConfirm(val unsynced: Long)

data class SyncUi(
    val status: SyncStatus = SyncStatus(null, 0u, 0u, 0u),
    val enrolled: Boolean = false,
    val running: SyncRun? = null,
    val last: SyncSummary? = null,
    val problem: ProblemReport? = null,
    val quarantine: List<QuarantineEntry> = emptyList(),
    val confirm: RemoveConfirm? = null,
    /** The store file is gone (after a confirmed removal): the shell goes back to Enroll. */
    val removed: Boolean = false,
)

/**
 * The Sync screen: when the device last synced, how many changes wait, a sync with its progress
 * and a cancel, what went wrong in plain words, the changes the server refused, and removing the
 * store (sign out) only after the rep confirms how many unsynced changes it would lose.
 */
class SyncState(
    private val session: Session,
    private val scope: CoroutineScope,
    /**
     * Told every step of a running sync, on the sync's own thread, before the screen's state
     * changes: unlike the conflated [ui] flow it misses no step, and the sync waits for it (a
     * log, or a test that holds a sync half-way to cancel it).
     */
    private val onStep: (SyncRun) -> Unit = {},
) {
    private val _ui = MutableStateFlow(SyncUi())
    val ui: StateFlow<SyncUi> = _ui.asStateFlow()
    private var cancel: CancelHandle? = null
    private var job: Job? = null
    private var watching: Job? = null

    fun start() {
        scope.launch { load() }
        if (watching == null) watching = scope.launch { session.kit.changes().collect { if (_ui.value.running == null) load() } }
    }

    fun stop() {
        watching?.cancel()
        watching = null
    }

    suspend fun load() {
        runCatching {
            Triple(session.call { syncStatus() }, session.call { isEnrolled() }, session.call { quarantine() })
        }.onSuccess { (s, e, q) -> _ui.update { it.copy(status = s, enrolled = e, quarantine = q) } }
            .onFailure { e -> _ui.update { it.copy(problem = problemOf(e)) } }
    }

    /** Starts a sync unless one runs. */
    fun sync() {
        if (_ui.value.running != null) return
        val handle = CancelHandle()
        cancel = handle
        _ui.update { it.copy(running = SyncRun(), problem = null) }
        job = scope.launch { runSync(handle) }
    }

    /** Runs a sync to its end in the caller's coroutine (tests wait on this). */
    suspend fun runSync(handle: CancelHandle = CancelHandle().also { cancel = it }) {
        _ui.update { it.copy(running = SyncRun(), problem = null) }
        try {
            val summary = session.kit.sync(handle) { p ->
                val run = SyncRun(p.phase, p.done, p.total)
                onStep(run)
                _ui.update { it.copy(running = run) }
            }
            _ui.update { it.copy(last = summary, running = null) }
        } catch (e: Exception) {
            if (e is kotlinx.coroutines.CancellationException) throw e
            _ui.update { it.copy(problem = problemOf(e), running = null) }
        } finally {
            handle.close()
            cancel = null
            _ui.update { it.copy(running = null) }
            load()
        }
    }

    /** Stops the running sync at its next step; what it did stays done. */
    fun cancel() {
        cancel?.cancel()
    }

    /** Asks first when changes would be lost; removes at once when none would. */
    suspend fun requestRemove() {
        val waiting = session.call { pendingUploadCount() }
        if (waiting > 0) _ui.update { it.copy(confirm = RemoveConfirm(waiting)) } else remove()
    }

    fun dismissRemove() = _ui.update { it.copy(confirm = null) }

    /** Closes the store and deletes its file (and SQLite's side files). */
    suspend fun remove() {
        val path = session.call { path() }
        session.kit.close()
        for (suffix in listOf("", "-wal", "-shm", "-journal")) File(path + suffix).delete()
        _ui.update { it.copy(confirm = null, removed = true) }
    }
}
