package io.fieldsales.ui.state

import io.fieldsales.kit.FieldSalesKit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch

data class EnrollUi(
    val server: String = "",
    val code: String = "",
    val deviceName: String = "",
    val busy: Boolean = false,
    val problem: ProblemReport? = null,
    /** A field left empty, by its string key. */
    val missing: Set<String> = emptySet(),
) {
    val canSubmit: Boolean get() = !busy && server.isNotBlank() && code.isNotBlank() && deviceName.isNotBlank()
}

/**
 * The Enroll screen: the server's address, the one-time code from the admin (typed or pasted:
 * spaces, line breaks and a leading "code:" are dropped), and a name for this device. Success
 * opens (or creates) the store for the enrolled user at [path].
 */
class EnrollState(
    private val scope: CoroutineScope,
    private val path: String,
    private val region: String,
    deviceName: String = "",
) {
    private val _ui = MutableStateFlow(EnrollUi(deviceName = deviceName))
    val ui: StateFlow<EnrollUi> = _ui.asStateFlow()

    fun editServer(s: String) = _ui.update { it.copy(server = s, problem = null, missing = it.missing - "enroll_server") }
    fun editCode(s: String) = _ui.update { it.copy(code = cleanCode(s), problem = null, missing = it.missing - "enroll_code") }
    fun editDeviceName(s: String) = _ui.update { it.copy(deviceName = s, problem = null, missing = it.missing - "enroll_device") }

    /** Enrolls; the kit on success, `null` with the problem in plain words otherwise. */
    suspend fun enroll(): FieldSalesKit? {
        val s = _ui.value
        val missing = buildSet {
            if (s.server.isBlank()) add("enroll_server")
            if (s.code.isBlank()) add("enroll_code")
            if (s.deviceName.isBlank()) add("enroll_device")
        }
        if (missing.isNotEmpty()) {
            _ui.update { it.copy(missing = missing) }
            return null
        }
        _ui.update { it.copy(busy = true, problem = null) }
        return try {
            FieldSalesKit.enroll(path, region, normalizeServer(s.server), s.code, s.deviceName.trim()).also {
                _ui.update { it.copy(busy = false) }
            }
        } catch (e: Exception) {
            if (e is kotlinx.coroutines.CancellationException) throw e
            _ui.update { it.copy(busy = false, problem = problemOf(e, enrolling = true)) }
            null
        }
    }

    fun enrollAsync(onDone: (FieldSalesKit) -> Unit) {
        scope.launch { enroll()?.let(onDone) }
    }

    companion object {
        /** A pasted code keeps only its letters, digits and dashes, upper-cased. */
        fun cleanCode(s: String): String =
            s.trim().removePrefix("code:").removePrefix("Code:").filter { it.isLetterOrDigit() || it == '-' }.uppercase()

        /** "sales.example.com:8787" becomes "https://sales.example.com:8787"; a scheme typed stays. */
        fun normalizeServer(s: String): String {
            val t = s.trim().trimEnd('/')
            return if (t.startsWith("http://") || t.startsWith("https://")) t else "https://$t"
        }
    }
}
