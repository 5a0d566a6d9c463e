package io.fieldsales.ui.state

import io.fieldsales.kit.core.Activity
import io.fieldsales.kit.core.ActivityDraft
import io.fieldsales.kit.core.ActivityKind
import io.fieldsales.kit.core.FieldConflict
import io.fieldsales.kit.core.FormField
import io.fieldsales.kit.core.Lead
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.core.Stage
import io.fieldsales.kit.core.StageSetting
import io.fieldsales.kit.ffi.FieldsalesException
import io.fieldsales.kit.ffi.parseMoney
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import java.time.Instant
import java.time.LocalDate
import java.time.LocalTime

/**
 * The workspace's name for a stage when a manager renamed it ("Quote sent"); `null` while it is
 * the built-in one, which the screens show in the rep's language.
 */
fun customStageName(stages: List<StageSetting>, s: Stage): String? =
    stages.firstOrNull { it.stage == s }?.name?.takeIf { it != s.name.lowercase() }

/** The stepper's stages in order: the funnel, then lost. */
val STEPPER: List<Stage> = listOf(Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION, Stage.WON, Stage.LOST)

data class LeadDetailUi(
    val lead: Lead? = null,
    val activities: List<Activity> = emptyList(),
    /** The workspace's stage names and rules. */
    val stages: List<StageSetting> = emptyList(),
    val unsynced: Boolean = false,
    /** The core's message on the input it concerns (a stage rule's on the field it needs). */
    val errors: Map<FormField, String> = emptyMap(),
    /** A stage the rep tapped that waits for a required field (the deal value a quote needs). */
    val pendingStage: Stage? = null,
    val dealInput: String = "",
    val dealCurrency: String = "KRW",
    val problem: ProblemReport? = null,
) {
    fun stageName(s: Stage): String? = customStageName(stages, s)
    fun rulesOf(s: Stage) = stages.firstOrNull { it.stage == s }?.required.orEmpty()
    val conflicts: List<FieldConflict> get() = lead?.conflicts.orEmpty()
}

/**
 * The Lead detail screen: the fields, a stage stepper that follows the workspace's rules (a move
 * the core refuses puts the rule's message on the field it needs, and the move waits for it),
 * conflicts with both values and a one-tap choice, the activity timeline and the follow-up date.
 */
class LeadDetailState(private val session: Session, private val scope: CoroutineScope, val leadId: String) {
    private val _ui = MutableStateFlow(LeadDetailUi())
    val ui: StateFlow<LeadDetailUi> = _ui.asStateFlow()
    private var watching: Job? = null

    fun start() {
        scope.launch { load() }
        if (watching == null) {
            watching = scope.launch {
                session.kit.changes().collect { c -> if (leadId in c.leads || c.activities.isNotEmpty()) load() }
            }
        }
    }

    fun stop() {
        watching?.cancel()
        watching = null
    }

    suspend fun load() {
        runCatching {
            val d = session.call { leadDetail(leadId) }
            val settings = session.call { salesSettings() }
            val marked = session.call { unsyncedLeads(listOf(leadId)) }.isNotEmpty()
            Triple(d, settings, marked)
        }.onSuccess { (d, settings, marked) ->
            _ui.update {
                it.copy(
                    lead = d.lead,
                    activities = d.activities,
                    stages = settings.stages,
                    unsynced = marked,
                    dealCurrency = d.lead.dealValue?.currency ?: it.dealCurrency,
                    problem = null,
                )
            }
        }.onFailure { e -> _ui.update { it.copy(problem = problemOf(e)) } }
    }

    /** Moves the lead to [stage]; a stage rule's refusal lands on the field the stage needs. */
    suspend fun moveTo(stage: Stage) {
        if (_ui.value.lead?.stage == stage) return
        update(LeadPatch(stage = stage), pendingStage = stage)
    }

    fun editDeal(text: String) = _ui.update { it.copy(dealInput = text, errors = it.errors - FormField.DEAL_VALUE) }

    fun setCurrency(code: String) = _ui.update { it.copy(dealCurrency = code.uppercase()) }

    /** Saves the deal value typed; a stage move that waited for it goes ahead in the same edit. */
    suspend fun saveDeal() {
        val s = _ui.value
        val money = try {
            parseMoney(s.dealInput, s.dealCurrency)
        } catch (e: FieldsalesException.Validation) {
            _ui.update { it.copy(errors = it.errors + (FormField.DEAL_VALUE to e.reason)) }
            return
        }
        update(LeadPatch(dealValue = money, stage = s.pendingStage), pendingStage = s.pendingStage)
    }

    /** One tap: keeps value number [choice] of [conflict]. */
    suspend fun resolve(conflict: FieldConflict, choice: Int) {
        runCatching { session.call { resolveConflict(leadId, conflict.field, choice.toUInt()) } }
            .onSuccess { l -> _ui.update { it.copy(lead = l) }; load() }
            .onFailure { e -> _ui.update { it.copy(problem = problemOf(e)) } }
    }

    /** Logs a done call, meeting, visit or note now, or a task due at [dueAt]. */
    suspend fun log(kind: ActivityKind, subject: String, dueAt: Long? = null) {
        val now = session.now()
        val draft = ActivityDraft(
            leadId = leadId,
            kind = kind,
            subject = subject.trim(),
            occurredAt = if (kind == ActivityKind.TASK) null else now,
            dueAt = if (kind == ActivityKind.TASK) (dueAt ?: now) else null,
            done = kind != ActivityKind.TASK,
        )
        runCatching { session.call { addActivity(draft) } }
            .onSuccess { load() }
            .onFailure { e -> report(e) }
    }

    suspend fun complete(activity: Activity) {
        runCatching { session.call { completeActivity(activity.id) } }.onSuccess { load() }.onFailure { e -> report(e) }
    }

    /** The follow-up at 09:00 of [date] in the rep's zone; `null` clears it. */
    suspend fun setFollowUp(date: LocalDate?) {
        if (date == null) {
            update(LeadPatch(clear = listOf(io.fieldsales.kit.core.LeadField.NEXT_FOLLOW_UP)))
        } else {
            val at = date.atTime(LocalTime.of(9, 0)).atZone(session.zone).toInstant().toEpochMilli()
            update(LeadPatch(nextFollowUp = at))
        }
    }

    /** The rep's today, in their zone. */
    fun today(): LocalDate = Instant.ofEpochMilli(session.now()).atZone(session.zone).toLocalDate()

    /** A follow-up [days] after the rep's today. */
    suspend fun followUpIn(days: Long) = setFollowUp(today().plusDays(days))

    /** The follow-up date shown, in the rep's zone. */
    fun followUpDate(): LocalDate? = _ui.value.lead?.nextFollowUp?.let { Instant.ofEpochMilli(it).atZone(session.zone).toLocalDate() }

    private suspend fun update(patch: LeadPatch, pendingStage: Stage? = null) {
        try {
            val l = session.call { updateLead(leadId, patch) }
            _ui.update { it.copy(lead = l, errors = emptyMap(), pendingStage = null, dealInput = "") }
            load()
        } catch (e: FieldsalesException.Validation) {
            val field = e.field ?: FormField.STAGE
            _ui.update { it.copy(errors = it.errors + (field to e.reason), pendingStage = pendingStage) }
        } catch (e: FieldsalesException) {
            report(e)
        }
    }

    private fun report(e: Throwable) = _ui.update { it.copy(problem = problemOf(e)) }
}

