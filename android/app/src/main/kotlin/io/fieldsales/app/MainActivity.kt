package io.fieldsales.app

import android.content.ClipboardManager
import android.content.Context
import android.content.res.Configuration
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.collectAsState
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.kit.ffi.peekStoreUser
import io.fieldsales.ui.i18n.Formats
import io.fieldsales.ui.screens.AppShell
import io.fieldsales.ui.screens.EnrollScreen
import io.fieldsales.ui.screens.FieldsalesTheme
import io.fieldsales.ui.state.AppState
import io.fieldsales.ui.state.EnrollState
import io.fieldsales.ui.state.Session
import java.io.File
import java.time.ZoneId

/**
 * The phone app: the same state holders and screens the desktop build runs and tests, with the
 * device's locale, time zone, dark mode and clipboard. The store lives in the app's files folder.
 */
class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val path = File(filesDir, "leads.db").path
        val region = resources.configuration.locales[0].country.ifEmpty { "KR" }
        val text = ResourceText(this)
        val formats = Formats(resources.configuration.locales[0], ZoneId.systemDefault())
        val dark = (resources.configuration.uiMode and Configuration.UI_MODE_NIGHT_MASK) == Configuration.UI_MODE_NIGHT_YES
        val clipboard = { (getSystemService(Context.CLIPBOARD_SERVICE) as ClipboardManager).primaryClip?.getItemAt(0)?.coerceToText(this)?.toString() }
        setContent {
            val scope = rememberCoroutineScope()
            var kit by remember { mutableStateOf<FieldSalesKit?>(null) }
            LaunchedEffect(Unit) { peekStoreUser(path)?.let { kit = FieldSalesKit.open(path, it, region) } }
            FieldsalesTheme(dark, text, formats) {
                val k = kit
                if (k == null) {
                    val enroll = remember { EnrollState(scope, path, region, deviceName = android.os.Build.MODEL) }
                    EnrollScreen(enroll, clipboard) { kit = it }
                } else {
                    val app = remember(k) { AppState(Session(k), scope).also { it.start() } }
                    val sync by app.sync.ui.collectAsState()
                    if (sync.removed) LaunchedEffect(Unit) { app.stop(); kit = null } else AppShell(app, clipboard)
                }
            }
        }
    }
}
