// The Android app around the shared screens. NOT BUILT ON THIS MACHINE (no Android SDK or Gradle
// with the Android Gradle Plugin here): for developers who build phones elsewhere. The screens and
// state holders it compiles are the ones android/ui builds and tests with Maven.
pluginManagement {
    repositories { google(); mavenCentral(); gradlePluginPortal() }
}
dependencyResolutionManagement {
    repositories { google(); mavenCentral() }
}
rootProject.name = "fieldsales-android"
