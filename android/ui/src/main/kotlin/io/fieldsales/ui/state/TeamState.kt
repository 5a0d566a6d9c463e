package io.fieldsales.ui.state

import io.fieldsales.kit.core.Attainment
import io.fieldsales.kit.core.AttainmentChange
import io.fieldsales.kit.core.CommissionChange
import io.fieldsales.kit.core.FiguresChange
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.ffi.ComparedReport
import io.fieldsales.kit.ffi.RepCommission
import io.fieldsales.kit.ffi.ReportPeriod
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

enum class TeamPeriod { WEEK, MONTH, QUARTER }

/** One bar of the funnel chart: the stage, how many reached it, and its length (0 to 1). */
data class FunnelBar(val stage: Stage, val reached: UInt, val fraction: Float, val conversion: Double?)

/** A target with its attainment bar (0 to 1, full at 100 %) and its change. */
data class TargetBar(val attainment: Attainment, val fraction: Float, val change: AttainmentChange?)

data class RepRow(val owner: String, val figures: io.fieldsales.kit.core.Figures, val change: FiguresChange?, val commission: RepCommission?, val commissionChange: CommissionChange?)

data class TeamUi(
    val period: TeamPeriod = TeamPeriod.MONTH,
    val report: ComparedReport? = null,
    val loading: Boolean = true,
    val problem: ProblemReport? = null,
) {
    val funnel: List<FunnelBar>
        get() {
            val steps = report?.current?.team?.funnel.orEmpty()
            val top = steps.maxOfOrNull { it.reached }?.takeIf { it > 0u } ?: 1u
            return steps.map { FunnelBar(it.stage, it.reached, it.reached.toFloat() / top.toFloat(), it.conversion) }
        }

    val targets: List<TargetBar>
        get() = report?.current?.attainment.orEmpty().map { a ->
            val bp = a.progress.attainmentBp ?: 0L
            TargetBar(a, (bp / 10_000f).coerceIn(0f, 1f), report?.change?.attainment?.firstOrNull { it.targetId == a.target.id })
        }

    val reps: List<RepRow>
        get() {
            val r = report ?: return emptyList()
            return r.current.reps.map { rep ->
                RepRow(
                    rep.owner,
                    rep.figures,
                    r.change.reps.firstOrNull { it.owner == rep.owner }?.figures,
                    r.current.commission.firstOrNull { it.rep == rep.owner },
                    r.change.commission.firstOrNull { it.rep == rep.owner },
                )
            }
        }

    fun stageName(s: Stage): String? = customStageName(report?.current?.stages.orEmpty(), s)
}

/**
 * The Team screen (managers): the report for the week, month or quarter holding now in the rep's
 * zone, each figure with its change against the period before (computed by the core).
 */
class TeamState(private val session: Session, private val scope: CoroutineScope) {
    private val _ui = MutableStateFlow(TeamUi())
    val ui: StateFlow<TeamUi> = _ui.asStateFlow()
    private var job: Job? = null

    fun start() = select(_ui.value.period)

    fun select(period: TeamPeriod) {
        _ui.update { it.copy(period = period, loading = true) }
        job?.cancel()
        job = scope.launch { load() }
    }

    suspend fun load() {
        val now = session.now()
        val p = when (_ui.value.period) {
            TeamPeriod.WEEK -> ReportPeriod.Week
            TeamPeriod.MONTH -> ReportPeriod.Month
            TeamPeriod.QUARTER -> ReportPeriod.Quarter
        }
        runCatching { session.call { teamReportCompared(p, now, session.timeZone) } }
            .onSuccess { r -> _ui.update { it.copy(report = r, loading = false, problem = null) } }
            .onFailure { e -> _ui.update { it.copy(loading = false, problem = problemOf(e)) } }
    }
}
