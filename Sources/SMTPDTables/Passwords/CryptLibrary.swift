import CCrypt
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The only file that calls libcrypt (libxcrypt on Debian): `crypt_rn(3)`, `crypt_gensalt_rn(3)`,
/// `crypt_checksalt(3)`. Every call uses caller-owned buffers (no static storage), so it is thread-safe,
/// and every buffer that held a passphrase is wiped before it is freed.
enum CryptLibrary {
    /// `crypt_rn(3)`: hashes `phrase` with `setting` (a salt string or a whole hash).
    /// Returns nil when libcrypt refuses (unknown or malformed setting, NUL in the phrase).
    static func crypt(_ phrase: [UInt8], setting: [UInt8]) -> [UInt8]? {
        if phrase.contains(0) || setting.contains(0) { return nil }
        let size = MemoryLayout<crypt_data>.size
        let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<crypt_data>.alignment)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        var phraseZ = phrase
        phraseZ.append(0)
        var settingZ = setting
        settingZ.append(0)
        defer {
            explicit_bzero(data, size)
            data.deallocate()
            phraseZ.withUnsafeMutableBytes { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } }
        }
        let result: [UInt8]? = phraseZ.withUnsafeBufferPointer { p in
            settingZ.withUnsafeBufferPointer { s in
                p.withMemoryRebound(to: CChar.self) { pc in
                    s.withMemoryRebound(to: CChar.self) { sc in
                        guard let out = crypt_rn(pc.baseAddress, sc.baseAddress, data, Int32(size)) else { return nil }
                        let length = strlen(out)
                        return Array(UnsafeRawBufferPointer(start: out, count: length))
                    }
                }
            }
        }
        // libxcrypt returns NULL on failure from crypt_rn, but guard against the "*0"/"*1" failure tokens too.
        if let result, result.first == UInt8(ascii: "*") { return nil }
        return result
    }

    /// `crypt_gensalt_rn(3)` with random bytes from the system's entropy source (NULL rbytes).
    /// `count` 0 means the method's default cost. Returns nil when the prefix or count is refused.
    static func gensalt(prefix: String, count: UInt) -> String? {
        var output = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        let ok = output.withUnsafeMutableBufferPointer { out in
            crypt_gensalt_rn(prefix, count, nil, 0, out.baseAddress, Int32(out.count)) != nil
        }
        guard ok, let end = output.firstIndex(of: 0) else { return nil }
        let s = String(decoding: output[..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return s.first == "*" ? nil : s
    }

    /// What `crypt_checksalt(3)` says about a setting or hash.
    enum SaltStatus: Sendable {
        /// Supported and not deprecated.
        case ok
        /// Supported, but libcrypt calls the method legacy (too weak for new hashes).
        case legacy
        /// Not something this libcrypt can hash with.
        case invalid
    }

    /// `crypt_checksalt(3)` on `setting` (a salt string or a whole hash); a NUL in it is `.invalid`.
    static func checkSalt(_ setting: [UInt8]) -> SaltStatus {
        if setting.contains(0) { return .invalid }
        var z = setting
        z.append(0)
        let r = z.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { crypt_checksalt($0.baseAddress) }
        }
        switch r {
        case CRYPT_SALT_OK: return .ok
        case CRYPT_SALT_METHOD_LEGACY: return .legacy
        default: return .invalid
        }
    }
}
