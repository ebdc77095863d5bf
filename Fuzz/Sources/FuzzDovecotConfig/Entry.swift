import CLibFuzzer

// SwiftPM links every executable with `main` aliased to `<module>_main`, which -parse-as-library never
// emits: define it here and hand control to libFuzzer's driver, which calls LLVMFuzzerTestOneInput.
@_cdecl("FuzzDovecotConfig_main")
func FuzzDovecotConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzDovecotConfig(data, size)
    }
}

/// A property of the code under test; a failure is a crash libFuzzer records (fatalError keeps the message in
/// release builds, where precondition drops it).
func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError(message()) }
}
