package io.fieldsales.ui.desktop

import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.unit.DpSize
import androidx.compose.ui.unit.dp
import androidx.compose.ui.window.Window
import androidx.compose.ui.window.application
import androidx.compose.ui.window.rememberWindowState
import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.kit.ffi.peekStoreUser
import io.fieldsales.ui.i18n.Formats
import io.fieldsales.ui.i18n.XmlText
import io.fieldsales.ui.screens.AppShell
import io.fieldsales.ui.screens.EnrollScreen
import io.fieldsales.ui.screens.FieldsalesTheme
import io.fieldsales.ui.state.AppState
import io.fieldsales.ui.state.EnrollState
import io.fieldsales.ui.state.Session
import kotlinx.coroutines.runBlocking
import java.awt.Toolkit
import java.awt.datatransfer.DataFlavor
import java.io.File
import java.time.ZoneId
import java.util.Locale

/**
 * The shell in a desktop window, against a local store:
 * `mvn -f android/ui/pom.xml exec:java -Dexec.args="--store /tmp/me.db --user rep-kim"`.
 * Without `--user` a new store is enrolled through the Enroll screen; `--region` (default KR),
 * `--lang ko|en` and `--dark` are optional.
 */
fun main(args: Array<String>) {
    fun arg(name: String): String? = args.indexOf(name).takeIf { it >= 0 }?.let { args.getOrNull(it + 1) }
    val path = arg("--store") ?: File(System.getProperty("user.home"), "fieldsales-desktop.db").path
    val region = arg("--region") ?: "KR"
    arg("--lang")?.let { Locale.setDefault(Locale.forLanguageTag(it)) }
    val dark = "--dark" in args
    val user = arg("--user") ?: peekStoreUser(path)
    val opened = user?.let { runBlocking { FieldSalesKit.open(path, it, region) } }
    val locale = Locale.getDefault()
    val text = XmlText(locale)
    val formats = Formats(locale, ZoneId.systemDefault())
    val clipboard = { runCatching { Toolkit.getDefaultToolkit().systemClipboard.getData(DataFlavor.stringFlavor) as String }.getOrNull() }
    application {
        var kit by remember { mutableStateOf(opened) }
        val scope = rememberCoroutineScope()
        Window(onCloseRequest = ::exitApplication, title = "Fieldsales", state = rememberWindowState(size = DpSize(420.dp, 860.dp))) {
            FieldsalesTheme(dark, text, formats) {
                val k = kit
                if (k == null) {
                    val enroll = remember { EnrollState(scope, path, region, deviceName = "desktop") }
                    EnrollScreen(enroll, clipboard) { kit = it }
                } else {
                    val app = remember(k) { AppState(Session(k), scope).also { it.start() } }
                    val sync by app.sync.ui.collectAsState()
                    // Signed out: the store is gone, back to Enroll.
                    if (sync.removed) LaunchedEffect(Unit) { app.stop(); kit = null } else AppShell(app, clipboard)
                }
            }
        }
    }
}
