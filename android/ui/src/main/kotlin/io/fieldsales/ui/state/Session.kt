package io.fieldsales.ui.state

import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.kit.ffi.FieldStore
import io.fieldsales.kit.ffi.FieldsalesException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.time.ZoneId

/**
 * What every state holder shares: the rep's store, the clock and the rep's time zone (Today,
 * reports and follow-up dates are in local time). Tests pass a fixed clock or zone; an Android
 * app passes `ZoneId.systemDefault()` like the desktop shell.
 */
class Session(
    val kit: FieldSalesKit,
    val clock: () -> Long = System::currentTimeMillis,
    val zone: ZoneId = ZoneId.systemDefault(),
    val io: CoroutineDispatcher = Dispatchers.IO,
) {
    val userId: String get() = kit.userId

    fun now(): Long = clock()

    /** The zone's IANA name, as the core's local-day calculations take it (daylight saving included). */
    val timeZone: String get() = zone.id

    /** A store call off the UI thread. */
    suspend fun <T> call(f: FieldStore.() -> T): T = withContext(io) { kit.store.f() }
}

/** What went wrong, in the words a screen uses (each has an English and a Korean string). */
enum class Problem(val key: String) {
    OFFLINE("problem_offline"),
    REVOKED("problem_revoked"),
    NOT_ENROLLED("problem_not_enrolled"),
    SERVER_REFUSED("problem_server_refused"),
    BAD_CODE("problem_bad_code"),
    CANCELLED("problem_cancelled"),
    UNREADABLE_CODE("problem_unreadable_code"),
    STORAGE("problem_storage"),
    OTHER("problem_other"),
}

/** A problem with the core's own message as detail (shown small under the plain words). */
data class ProblemReport(val problem: Problem, val detail: String)

/** Plain words for an exception; [enrolling] reads a server refusal as a bad one-time code. */
fun problemOf(e: Throwable, enrolling: Boolean = false): ProblemReport {
    val p = when (e) {
        is FieldsalesException.Network -> Problem.OFFLINE
        is FieldsalesException.Unauthorized -> Problem.REVOKED
        is FieldsalesException.NotEnrolled -> Problem.NOT_ENROLLED
        // An enrollment refused for its code (unknown, used or expired), or any other refusal.
        is FieldsalesException.Server -> if (enrolling && e.code == "invalid_code") Problem.BAD_CODE else Problem.SERVER_REFUSED
        is FieldsalesException.Cancelled -> Problem.CANCELLED
        is FieldsalesException.UnreadableCode -> Problem.UNREADABLE_CODE
        is FieldsalesException.Storage -> Problem.STORAGE
        else -> Problem.OTHER
    }
    return ProblemReport(p, e.message ?: e.toString())
}
