// Android app glue: an Activity hosting io.fieldsales.ui's AppShell. See android/README.md
// ("The Android app") for what is and is not built here. Before building: the native library in
// src/main/jniLibs (cargo ndk) and the Kotlin bindings in bindings/generated/kotlin.
plugins {
    id("com.android.application") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.2.20"
    id("org.jetbrains.kotlin.plugin.compose") version "2.2.20"
}

android {
    namespace = "io.fieldsales.app"
    compileSdk = 35
    defaultConfig {
        applicationId = "io.fieldsales.app"
        minSdk = 26 // java.time, which the state holders and formats use
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }
    buildFeatures { compose = true }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    sourceSets["main"].apply {
        // The same sources Maven builds and tests on the JVM: the kit, the generated bindings,
        // and the screens with their state holders (the desktop window left out).
        java.srcDirs(
            "src/main/kotlin",
            "../src/main/kotlin",
            "../../bindings/generated/kotlin",
            "../ui/src/main/kotlin",
        )
        java.exclude("io/fieldsales/ui/desktop/**")
        // One set of UI strings: values/ (English) and values-ko/ (Korean).
        res.srcDirs("../ui/src/main/res")
    }
}

dependencies {
    val composeBom = platform("androidx.compose:compose-bom:2025.10.01")
    implementation(composeBom)
    implementation("androidx.compose.ui:ui")
    implementation("androidx.compose.foundation:foundation")
    implementation("androidx.compose.material3:material3")
    implementation("androidx.activity:activity-compose:1.10.1")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.9.4")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
    implementation("net.java.dev.jna:jna:5.19.1@aar")
}
