package io.fieldsales.ui

import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.toAwtImage
import androidx.compose.ui.platform.LocalDensity
import androidx.compose.ui.semantics.SemanticsActions
import androidx.compose.ui.semantics.SemanticsNode
import androidx.compose.ui.semantics.SemanticsProperties
import androidx.compose.ui.semantics.getOrNull
import androidx.compose.ui.test.SemanticsMatcher
import androidx.compose.ui.test.SemanticsNodeInteractionsProvider
import androidx.compose.ui.test.performScrollTo
import androidx.compose.ui.test.captureToImage
import androidx.compose.ui.test.junit4.ComposeContentTestRule
import androidx.compose.ui.test.onRoot
import androidx.compose.ui.unit.Density
import io.fieldsales.kit.FieldSalesKit
import io.fieldsales.ui.i18n.Formats
import io.fieldsales.ui.i18n.XmlText
import io.fieldsales.ui.screens.FieldsalesTheme
import io.fieldsales.ui.state.Session
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.runBlocking
import java.io.File
import java.time.ZoneId
import java.util.Locale
import java.util.Properties
import javax.imageio.ImageIO

val KO: Locale = Locale.KOREA
val EN: Locale = Locale.US
val SEOUL: ZoneId = ZoneId.of("Asia/Seoul")

/** The sync server scripts/test-bindings.sh started, with the UI suite's users and codes. */
object TestServer {
    private val props: Properties by lazy {
        val path = System.getProperty("fieldsales.testServer") ?: error("fieldsales.testServer is not set; run scripts/test-bindings.sh")
        val f = File(path)
        check(f.isFile) { "no test server file at $path; run scripts/test-bindings.sh" }
        Properties().apply { f.reader(Charsets.UTF_8).use { load(it) } }
    }

    val url: String get() = get("server")
    fun user(role: String): String = get("ui.$role.user")
    fun code(role: String, n: Int): String = get("ui.$role.code.$n")
    private fun get(key: String): String = props.getProperty(key) ?: error("test server file has no '$key'")
}

fun tempDir(): File = kotlin.io.path.createTempDirectory("fieldsales-ui").toFile().also { it.deleteOnExit() }

fun openKit(dir: File, user: String): FieldSalesKit = runBlocking { FieldSalesKit.open(File(dir, "$user.db").path, user, "KR") }

fun testScope() = CoroutineScope(SupervisorJob() + Dispatchers.Default)

fun session(kit: FieldSalesKit, zone: ZoneId = SEOUL, clock: () -> Long = System::currentTimeMillis) = Session(kit, clock, zone)

/** The screens as the app shows them: theme, words and formats of [locale], optional font scale. */
@Composable
fun Themed(locale: Locale = EN, dark: Boolean = false, fontScale: Float = 1f, zone: ZoneId = SEOUL, content: @Composable () -> Unit) {
    val density = LocalDensity.current
    CompositionLocalProvider(LocalDensity provides Density(density.density, fontScale)) {
        FieldsalesTheme(dark, XmlText(locale), Formats(locale, zone)) {
            Surface(Modifier.fillMaxSize(), color = MaterialTheme.colorScheme.background) { Box(Modifier.fillMaxSize()) { content() } }
        }
    }
}

/** Waits (for correctness, not speed) until [cond] holds. */
fun ComposeContentTestRule.await(what: String = "condition", cond: () -> Boolean) {
    try {
        waitUntil(timeoutMillis = 20_000) { cond() }
    } catch (e: Throwable) {
        throw AssertionError("waited for $what", e)
    }
}

/**
 * Every control a person can tap has a label a screen reader reads (its text or content
 * description) and a touch target of at least 48 × 48 dp. Controls scrolled out of view are
 * scrolled to first, so their touch bounds are measured as a finger meets them.
 */
fun ComposeContentTestRule.assertAccessible(screen: String) {
    fun clickables(): List<SemanticsNode> {
        val out = mutableListOf<SemanticsNode>()
        fun visit(n: SemanticsNode) {
            if (n.config.getOrNull(SemanticsActions.OnClick) != null) out += n
            n.children.forEach(::visit)
        }
        visit(onRoot().fetchSemanticsNode())
        return out
    }
    val density = onRoot().fetchSemanticsNode().layoutInfo.density.density
    val problems = mutableListOf<String>()
    for (id in clickables().map { it.id }) {
        val matcher = SemanticsMatcher("node $id") { it.id == id }
        var n = onNode(matcher).fetchSemanticsNode()
        if (n.touchBoundsInRoot.isEmpty) {
            onNode(matcher).performScrollTo()
            waitForIdle()
            n = onNode(matcher).fetchSemanticsNode()
        }
        val text = n.config.getOrNull(SemanticsProperties.Text)?.joinToString { it.text }.orEmpty()
        val desc = n.config.getOrNull(SemanticsProperties.ContentDescription)?.joinToString().orEmpty()
        val editable = n.config.getOrNull(SemanticsProperties.EditableText) != null
        val tag = n.config.getOrNull(SemanticsProperties.TestTag) ?: "#$id"
        if ((text + desc).isBlank() && !editable) problems += "$tag has no label"
        val r = n.touchBoundsInRoot
        if (r.width < 48f * density - 0.5f || r.height < 48f * density - 0.5f) problems += "$tag touch target ${r.width / density}×${r.height / density} dp"
    }
    check(problems.isEmpty()) { "$screen: " + problems.joinToString("; ") }
}

/** Writes the screen as a PNG into the suite's screenshot folder (fieldsales.screens). */
fun SemanticsNodeInteractionsProvider.screenshot(name: String) {
    val dir = File(System.getProperty("fieldsales.screens") ?: "target/screens").apply { mkdirs() }
    val img = onRoot().captureToImage().toAwtImage()
    ImageIO.write(img, "png", File(dir, "$name.png"))
}
