package io.fieldsales.ui.state

import io.fieldsales.kit.core.CaptureChannel
import io.fieldsales.kit.core.CaptureDraft
import io.fieldsales.kit.core.DuplicateReason
import io.fieldsales.kit.core.FormField
import io.fieldsales.kit.core.Lead
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.core.Potential
import io.fieldsales.kit.ffi.FieldsalesException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

/** What the rep typed, as typed (the core normalises on save). */
data class CaptureForm(
    val name: String = "",
    val company: String = "",
    val phone: String = "",
    val email: String = "",
    val title: String = "",
    val event: String = "",
    val potential: Potential? = null,
    val tags: List<String> = emptyList(),
    val tagInput: String = "",
    val notes: String = "",
    val channel: CaptureChannel = CaptureChannel.MANUAL,
    /** Details a pasted card held beyond the first phone and e-mail; kept, not dropped. */
    val morePhones: List<String> = emptyList(),
    val moreEmails: List<String> = emptyList(),
) {
    fun toDraft(): LeadDraft = LeadDraft(
        name = name.ifBlank { null },
        company = company.ifBlank { null },
        title = title.ifBlank { null },
        emails = listOf(email).filter { it.isNotBlank() } + moreEmails,
        phones = listOf(phone).filter { it.isNotBlank() } + morePhones,
        event = event.ifBlank { null },
        channel = channel,
        potential = potential,
        tags = tags + listOf(tagInput).filter { it.isNotBlank() },
        notes = notes.ifBlank { null },
    )

    val isEmpty: Boolean get() = listOf(name, company, phone, email, title, notes).all { it.isBlank() }
}

/** A stored lead that looks like the person on the form. */
data class DuplicateHit(
    val leadId: String,
    val name: String,
    val company: String?,
    val capturedBy: String,
    val reason: DuplicateReason,
)

data class CaptureUi(
    val form: CaptureForm = CaptureForm(),
    /** The core's message on the input it concerns. */
    val errors: Map<FormField, String> = emptyMap(),
    /** An error about no single input. */
    val formError: String? = null,
    val duplicates: List<DuplicateHit> = emptyList(),
    /** Fields a pasted card filled with a guess (confidence below 0.8): ask the rep to check. */
    val unsure: Set<FormField> = emptySet(),
    val pasteProblem: ProblemReport? = null,
    val saving: Boolean = false,
    /** The last lead saved from this form ("김민지 saved"). */
    val saved: Lead? = null,
)

/**
 * The Capture screen, built for a booth: name, company, phone and e-mail first; the event of the
 * rep's last capture filled in; potential in one tap; pasted or scanned text read by the core's
 * parsers; the core's validation errors on their fields; a likely duplicate shown before saving.
 */
class CaptureState(private val session: Session, private val scope: CoroutineScope) {
    private val _ui = MutableStateFlow(CaptureUi())
    val ui: StateFlow<CaptureUi> = _ui.asStateFlow()
    private var dupJob: Job? = null

    /** Fills in the event of the rep's most recent capture. */
    fun start() {
        scope.launch {
            val last = runCatching {
                session.call { listPage(LeadQuery(owner = session.userId, sort = LeadSort.CREATED, limit = 1u)) }
            }.getOrNull()?.items?.firstOrNull()?.summary?.event
            if (last != null) _ui.update { if (it.form.event.isBlank()) it.copy(form = it.form.copy(event = last)) else it }
        }
    }

    /** Any edit of the form; the edited field's error goes and the duplicate check runs again. */
    fun edit(field: FormField?, change: (CaptureForm) -> CaptureForm) {
        _ui.update {
            it.copy(
                form = change(it.form),
                errors = if (field == null) it.errors else it.errors - field,
                formError = null,
                unsure = if (field == null) it.unsure else it.unsure - field,
                saved = null,
            )
        }
        checkDuplicates()
    }

    /** One tap: sets the potential, or clears it when tapped again. */
    fun tapPotential(p: Potential) = edit(FormField.POTENTIAL) { it.copy(potential = if (it.potential == p) null else p) }

    fun addTag() = edit(FormField.TAGS) {
        val t = it.tagInput.trim()
        if (t.isEmpty() || t in it.tags) it.copy(tagInput = "") else it.copy(tags = it.tags + t, tagInput = "")
    }

    fun removeTag(t: String) = edit(FormField.TAGS) { it.copy(tags = it.tags - t) }

    /**
     * Pasted or scanned text: a contact QR code (vCard, MECARD, a link) when it reads as one,
     * otherwise business-card OCR text. Fills the empty fields and replaces the rest.
     */
    fun paste(text: String) {
        scope.launch {
            val parsed = runCatching { session.call { parseQr(text) } }.recoverCatching { e ->
                if (e is FieldsalesException.UnreadableCode && text.lines().count { it.isNotBlank() } >= 2) {
                    session.call { parseCardText(text) }
                } else {
                    throw e
                }
            }
            parsed.onSuccess { fill(it) }.onFailure { e -> _ui.update { it.copy(pasteProblem = problemOf(e)) } }
        }
    }

    private fun fill(c: CaptureDraft) {
        val d = c.draft
        val unsure = c.confidence.filter { it.confidence < 0.8f }.mapNotNull {
            when {
                it.field == "name" -> FormField.NAME
                it.field == "company" -> FormField.COMPANY
                it.field == "title" -> FormField.TITLE
                it.field.startsWith("emails") -> FormField.EMAIL
                it.field.startsWith("phones") -> FormField.PHONE
                else -> null
            }
        }.toSet()
        _ui.update {
            val f = it.form
            it.copy(
                form = f.copy(
                    name = d.name ?: f.name,
                    company = d.company ?: f.company,
                    title = d.title ?: f.title,
                    email = d.emails.firstOrNull() ?: f.email,
                    moreEmails = d.emails.drop(1),
                    phone = d.phones.firstOrNull() ?: f.phone,
                    morePhones = d.phones.drop(1),
                    notes = listOfNotNull(f.notes.ifBlank { null }, d.notes, c.unparsed.joinToString("\n").ifBlank { null })
                        .joinToString("\n"),
                    channel = d.channel ?: f.channel,
                ),
                errors = emptyMap(),
                unsure = unsure,
                pasteProblem = null,
                saved = null,
            )
        }
        checkDuplicates()
    }

    /** Debounced: a check per pause in typing, not per key. */
    private fun checkDuplicates() {
        dupJob?.cancel()
        val draft = _ui.value.form.toDraft()
        dupJob = scope.launch {
            delay(DUPLICATE_DEBOUNCE_MS)
            val groups = runCatching { session.call { duplicatesOfDraft(draft) } }.getOrDefault(emptyList())
            val hits = groups.flatMap { g ->
                g.leads.map { l -> DuplicateHit(l.id, l.displayName, l.company, l.createdBy, g.reason) }
            }.distinctBy { it.leadId }
            _ui.update { it.copy(duplicates = hits) }
        }
    }

    /** Saves the lead; `null` and the errors on their fields when the core refuses it. */
    suspend fun save(): Lead? {
        val form = _ui.value.form
        _ui.update { it.copy(saving = true) }
        return try {
            val lead = session.call { createLead(form.toDraft()) }
            // Ready for the next visitor at the booth: the event stays.
            _ui.value = CaptureUi(form = CaptureForm(event = form.event), saved = lead)
            dupJob?.cancel()
            lead
        } catch (e: FieldsalesException.Validation) {
            val field = e.field
            _ui.update {
                if (field == null) it.copy(saving = false, formError = e.message) else it.copy(saving = false, errors = it.errors + (field to e.reason))
            }
            null
        } catch (e: FieldsalesException) {
            _ui.update { it.copy(saving = false, formError = e.message) }
            null
        }
    }

    fun saveAsync(onSaved: (Lead) -> Unit = {}) {
        scope.launch { save()?.let(onSaved) }
    }

    /** Starts again (keeping the event). */
    fun clear() {
        dupJob?.cancel()
        _ui.value = CaptureUi(form = CaptureForm(event = _ui.value.form.event))
    }

    companion object {
        const val DUPLICATE_DEBOUNCE_MS = 150L
    }
}
