package io.fieldsales.kit

import java.io.File
import java.util.Properties

/** 2026-11-02 09:00 UTC, a Monday. */
const val T0: Long = 1_793_610_000_000L

/**
 * The sync server scripts/test-bindings.sh started for this run: its URL and fresh one-time
 * enrollment codes, from the key=value file named by the `fieldsales.testServer` property.
 */
object TestServer {
    private val props: Properties by lazy {
        val path = System.getProperty("fieldsales.testServer")
            ?: error("system property fieldsales.testServer is not set; run scripts/test-bindings.sh")
        val f = File(path)
        check(f.isFile) { "no test server file at $path; run scripts/test-bindings.sh, which starts fieldsales-server and writes it" }
        Properties().apply { f.reader(Charsets.UTF_8).use { load(it) } }
    }

    val url: String get() = get("server")

    /** The user id set up for [role] (e.g. "sync", "cancel"), and its n-th enrollment code (1-based). */
    fun user(role: String): String = get("kotlin.$role.user")

    fun code(role: String, n: Int): String = get("kotlin.$role.code.$n")

    private fun get(key: String): String = props.getProperty(key) ?: error("test server file has no '$key'")
}

/** Resident memory of this process, KiB, from /proc/self/status. */
fun vmRssKib(): Long =
    File("/proc/self/status").readLines().first { it.startsWith("VmRSS:") }
        .removePrefix("VmRSS:").trim().removeSuffix("kB").trim().toLong()

/** Open file descriptors of this process. */
fun openFds(): Int = File("/proc/self/fd").list()?.size ?: error("cannot list /proc/self/fd")
