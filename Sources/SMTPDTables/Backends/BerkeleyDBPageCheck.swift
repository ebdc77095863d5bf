// The pure-Swift half of opening a Berkeley DB file: a check of the pages libdb trusts, run before
// libdb sees the file. It reads the file with pread(2) and knows libdb's page layout (db_page.h), but calls
// no libdb function, so that the libdb wrapper (BerkeleyDB.swift) stays the one file over libdb's C API.

import Glibc

/// Refuses Berkeley DB files whose pages would crash or mislead libdb (found by fuzzing,
/// Fuzz/Sources/FuzzDBFile); `BerkeleyDB.open` runs it before `DB->open`.
enum BerkeleyDBPageCheck {
    /// Meta-page magic numbers (offset 12 of page 0) and page types (offset 25 of every page), from libdb's
    /// db_page.h.
    private enum Page {
        static let btreeMagic: UInt32 = 0x053162, hashMagic: UInt32 = 0x061561
        static let queueMagic: UInt32 = 0x042253, heapMagic: UInt32 = 0x074582
        /// P_HASHMETA, P_BTREEMETA.
        static let hashMeta: UInt8 = 8, btreeMeta: UInt8 = 9
        /// P_INVALID, P_HASH_UNSORTED, P_OVERFLOW, P_HASH.
        static let hashTypes: Set<UInt8> = [0, 2, 7, 13]
        /// P_INVALID, P_IBTREE, P_IRECNO, P_LBTREE, P_LRECNO, P_OVERFLOW, P_LDUP.
        static let btreeTypes: Set<UInt8> = [0, 3, 4, 5, 6, 7, 12]

        /// The little-endian 16-bit word at `at` in `bytes` (from its start index), byte-swapped for a file of
        /// the other byte order.
        static func u16(_ bytes: ArraySlice<UInt8>, _ at: Int, swapped: Bool) -> Int {
            let i = bytes.startIndex + at
            let v = UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
            return Int(swapped ? v.byteSwapped : v)
        }

        /// The 32-bit word at `at`, as `u16`.
        static func u32(_ bytes: ArraySlice<UInt8>, _ at: Int, swapped: Bool) -> UInt32 {
            let i = bytes.startIndex + at
            let v = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            return swapped ? v.byteSwapped : v
        }

        /// What is wrong with the items of a hash page (P_HASH, P_HASH_UNSORTED), which a cursor trusts and
        /// `DB->verify` lets through: items are key/data pairs packed down from the end of the page, so item
        /// i runs from its offset to item i-1's (the page end for item 0); a cursor copies that many bytes.
        /// An odd count or offsets out of order made it copy from past the page (found by fuzzing).
        ///
        /// `indexStart` is where the item index begins: 26, or 32 in a file with page checksums (libdb's
        /// `P_INP`: the header is followed by a 6-byte checksum field).
        static func hashItemProblem(_ page: ArraySlice<UInt8>, swapped: Bool, indexStart: Int = 26) -> String? {
            func u16(_ at: Int) -> Int { Page.u16(page, at, swapped: swapped) }
            let size = page.count
            let entries = u16(20)
            // The free space offset is 16 bits: on a 64 KiB page, an empty page's (the page size) is stored as 0.
            let lowest = u16(22) == 0 && size == 65536 ? 65536 : u16(22)
            guard entries % 2 == 0 else { return "odd number of hash items (\(entries))" }
            let indexEnd = indexStart + 2 * entries
            guard indexEnd <= lowest, lowest <= size else { return "free space offset \(lowest) out of the page" }
            var end = size
            for i in 0..<entries {
                let offset = u16(indexStart + 2 * i)
                guard offset >= lowest, offset < end else { return "hash item \(i) at \(offset) out of place" }
                let length = end - offset
                switch page[page.startIndex + offset] {
                case 1: break  // H_KEYDATA: the bytes after the type
                // H_OFFPAGE: type, 3 unused, page number, total length.
                case 3 where length >= 12: break
                case 2, 4: return "hash item \(i) is a set of duplicates (makemap never writes one)"
                default: return "hash item \(i) of type \(page[page.startIndex + offset]), \(length) bytes"
                }
                end = offset
            }
            return nil
        }
    }

    /// Checks what libdb trusts before its own checks run, reading the file once (no libdb call):
    ///
    /// - the page size in the meta page (offset 20, in the byte order of the magic number): `DB->open` sets up
    ///   its buffer pool with it before checking it, and a page size of 0 crashes it (SIGFPE in `__memp_fopen`);
    /// - the btree minimum keys per page, which a cursor divides by (0: SIGFPE in `__bamc_refresh`);
    /// - the meta page's type, and every page's type and page number: a page of another access method's type
    ///   sends `DB->verify` into that method's checker (a heap page in a hash file: a double free in
    ///   `__heap_vrfy`), and a page whose number is not its place is read by the cursor as another page.
    ///
    /// Found by fuzzing (Fuzz/Sources/FuzzDBFile). A queue or heap database is refused here as not a table;
    /// a file that carries no libdb magic number is left for `DB->open` to refuse.
    static func check(path: String) throws(BerkeleyDBError) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return }  // DB->open reports it
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return }
        // libdb opens a FIFO or a device as it is, and blocks on it (a FIFO until a writer comes).
        if st.st_mode & S_IFMT == S_IFDIR { return }  // DB->open reports EISDIR
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw BerkeleyDBError(code: EINVAL, function: "open", path: path, detail: "not a regular file, not a db file")
        }
        var header = [UInt8](repeating: 0, count: 27)
        guard header.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 27, 0) }) == 27 else { return }
        func word(_ bytes: [UInt8], _ at: Int, swapped: Bool) -> UInt32 { Page.u32(bytes[...], at, swapped: swapped) }
        let known = [Page.btreeMagic, Page.hashMagic, Page.queueMagic, Page.heapMagic]
        let swapped: Bool
        if known.contains(word(header, 12, swapped: false)) {
            swapped = false
        } else if known.contains(word(header, 12, swapped: true)) {
            swapped = true
        } else {
            return
        }
        func bad(_ detail: String, _ function: String = "DB->open") -> BerkeleyDBError {
            BerkeleyDBError(code: EINVAL, function: function, path: path, detail: detail)
        }
        let magic = word(header, 12, swapped: swapped)
        guard magic == Page.btreeMagic || magic == Page.hashMagic else {
            throw bad("not a hash or btree database", "DB->get_type")
        }
        let isHash = magic == Page.hashMagic
        let pageSize = Int(word(header, 20, swapped: swapped))
        guard pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else {
            throw bad("bad page size \(pageSize) in the meta page")
        }
        guard header[25] == (isHash ? Page.hashMeta : Page.btreeMeta) else {
            throw bad("meta page of type \(header[25])")
        }
        // DBMETA_PART_RANGE, DBMETA_PART_CALLBACK: DB->open of a partitioned database walks the tree for
        // its partition keys before anything is verified. makemap never writes one.
        guard header[26] & 0x06 == 0 else { throw bad("partitioned database") }
        // An encrypted database (a non-zero encryption algorithm) cannot be opened without its password; makemap
        // never writes one. Page checksums (DBMETA_CHKSUM) move every page's item index 6 bytes on.
        guard header[24] == 0 else { throw bad("encrypted database") }
        let indexStart = header[26] & 0x01 != 0 ? 32 : 26
        var root: UInt32 = 0
        if !isHash {
            // The btree meta page's minkey (offset 76): every cursor divides by twice it (`__bamc_refresh`);
            // DB->set_bt_minkey accepts 2 and up. The root page number follows at offset 88.
            var meta = [UInt8](repeating: 0, count: 92)
            guard meta.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 92, 0) }) == 92 else {
                throw bad("short meta page")
            }
            let minkey = word(meta, 76, swapped: swapped)
            guard minkey >= 2, minkey <= 65536 else { throw bad("bad btree minkey \(minkey) in the meta page") }
            root = word(meta, 88, swapped: swapped)
            // BTM_COMPRESS in the meta page's flags (offset 48): the cursor then decodes prefix-compressed
            // records and trusts their lengths (a heap overflow in `__bamc_compress_get`, found by fuzzing).
            // makemap never writes one.
            guard word(meta, 48, swapped: swapped) & 0x80 == 0 else { throw bad("compressed btree") }
        }
        let allowed = isHash ? Page.hashTypes : Page.btreeTypes
        let pages = Int(st.st_size) / pageSize
        guard pages > 1 else { return }
        // Up to 1 MiB at a time, no more than the file: a small table is opened often (one per lookup tool
        // run, every input of the fuzzer) and should not pay for clearing a megabyte.
        let pagesPerChunk = min(max(1, (1 << 20) / pageSize), pages - 1)
        var chunk = [UInt8](repeating: 0, count: pagesPerChunk * pageSize)
        var links = isHash ? nil : BtreeLinks(pages: pages, swapped: swapped, indexStart: indexStart)
        // Reported once every page's type and number passed: those are the first thing to be wrong.
        var itemProblem: String?
        var first = 1
        while first < pages {
            let count = min(pagesPerChunk, pages - first)
            let want = count * pageSize
            let got = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(first * pageSize)) }
            guard got == want else { throw BerkeleyDBError(code: EIO, function: "pread", path: path) }
            for i in 0..<count {
                let base = i * pageSize
                let number = word(chunk, base + 8, swapped: swapped)
                let type = chunk[base + 25]
                guard allowed.contains(type) else { throw bad("page \(first + i) has type \(type)") }
                guard number == UInt32(first + i) || (type == 0 && number == 0) else {
                    throw bad("page \(first + i) is numbered \(number)")
                }
                links?.record(chunk[base..<base + pageSize])
                if isHash, itemProblem == nil, type == 2 || type == 13,
                   let problem = Page.hashItemProblem(chunk[base..<base + pageSize], swapped: swapped,
                                                      indexStart: indexStart) {
                    itemProblem = "\(problem) on page \(first + i)"
                }
            }
            first += count
        }
        if let itemProblem { throw bad(itemProblem) }
        if let links, let problem = links.treeProblem(root: root) { throw bad(problem, "DB->verify") }
    }

    /// The page references a btree file's `DB->verify` follows by recursion (`__bam_vrfy_subtree`): from an
    /// internal page to its children, from a leaf item to an off-page duplicate tree. The verifier trusts
    /// them to form a tree: a page that is its own descendant sends it into endless recursion (a stack
    /// overflow; db5.3_verify dies the same way on such a file), a page linked twice is visited again for
    /// every link; `DB->open` and cursors descend from the root until they reach a leaf, and loop on a child
    /// that is not one level down (a zeroed page). In a sound file every page has one parent, a child is one
    /// level below its internal page and of the same kind (internal above level 1, a leaf at level 1), and
    /// a tree is at most 255 levels deep (the level is a byte), plus as many for a duplicate tree.
    private struct BtreeLinks {
        static let maxDepth = 512
        let swapped: Bool
        /// Where a page's item index begins (26, or 32 with page checksums).
        let indexStart: Int
        /// Page p's references are `targets[start[p]..<start[p + 1]]`; page 0 (the meta page) has none.
        var start: [Int] = [0, 0]
        var targets: [UInt32] = []
        /// Each page's type and level (offsets 25 and 24).
        var types: [UInt8] = [0]
        var levels: [UInt8] = [0]

        init(pages: Int, swapped: Bool, indexStart: Int) {
            self.swapped = swapped
            self.indexStart = indexStart
            start.reserveCapacity(pages + 1)
            types.reserveCapacity(pages)
            levels.reserveCapacity(pages)
        }

        private func u16(_ page: ArraySlice<UInt8>, _ at: Int) -> Int { Page.u16(page, at, swapped: swapped) }
        private func u32(_ page: ArraySlice<UInt8>, _ at: Int) -> UInt32 { Page.u32(page, at, swapped: swapped) }

        /// Adds the references of the next page (pages are recorded in order from page 1). Item offsets
        /// outside the page are skipped: the verifier reports those pages before it recurses.
        mutating func record(_ page: ArraySlice<UInt8>) {
            defer { start.append(targets.count) }
            let type = page[page.startIndex + 25]
            types.append(type)
            levels.append(page[page.startIndex + 24])
            // P_IBTREE (item: length, type, pad, child page), P_IRECNO (child page, record count), P_LBTREE.
            guard type == 3 || type == 4 || type == 5 else { return }
            let size = page.count
            let items = min(u16(page, 20), (size - indexStart) / 2)
            for i in 0..<items {
                let offset = u16(page, indexStart + 2 * i)
                switch type {
                case 3 where offset + 8 <= size: targets.append(u32(page, offset + 4))
                case 4 where offset + 4 <= size: targets.append(u32(page, offset))
                // A B_DUPLICATE leaf item (type byte at 2, less the B_DELETE flag) names a duplicate tree's root.
                case 5 where offset + 8 <= size && page[page.startIndex + offset + 2] & 0x7F == 2:
                    targets.append(u32(page, offset + 4))
                default: break
                }
            }
        }

        /// Walks the references from `root` without recursion; nil when they form a tree of bounded depth.
        func treeProblem(root: UInt32) -> String? {
            let pages = start.count - 1
            // A root or child outside the file is reported by the verifier, without recursing into it.
            func inFile(_ page: UInt32) -> Bool { page >= 1 && Int(page) < pages }
            guard inFile(root) else { return nil }
            // P_IBTREE, P_IRECNO, P_LBTREE, P_LRECNO.
            guard [3, 4, 5, 6].contains(types[Int(root)]) else {
                return "btree root page \(root) has type \(types[Int(root)])"
            }
            var seen = [Bool](repeating: false, count: pages)
            var path: [(page: Int, next: Int)] = [(Int(root), start[Int(root)])]
            seen[Int(root)] = true
            while let top = path.last {
                guard top.next < start[top.page + 1] else {
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let child = targets[top.next]
                guard inFile(child) else { continue }
                if seen[Int(child)] {
                    return path.contains(where: { $0.page == Int(child) })
                        ? "btree page \(child) is its own descendant" : "btree page \(child) is linked twice"
                }
                if let problem = linkProblem(from: top.page, to: Int(child)) { return problem }
                guard path.count < Self.maxDepth else { return "btree deeper than \(Self.maxDepth) levels" }
                seen[Int(child)] = true
                path.append((Int(child), start[Int(child)]))
            }
            return nil
        }

        /// What is wrong with a link from `parent` to `child`, by their types and levels.
        private func linkProblem(from parent: Int, to child: Int) -> String? {
            let type = types[child], level = levels[child]
            if types[parent] == 5 {
                // A leaf's duplicate tree: its root is internal (P_IBTREE, P_IRECNO) or a P_LDUP leaf.
                return [3, 4, 12].contains(type) ? nil : "btree page \(child), a duplicate tree, has type \(type)"
            }
            let parentLevel = levels[parent]
            guard parentLevel >= 2, level == parentLevel - 1 else {
                return "btree page \(child) has level \(level) under page \(parent) at level \(parentLevel)"
            }
            // Internal pages above level 1 are of the parent's kind; level 1 holds P_LBTREE, P_LRECNO or P_LDUP.
            let fits = level > 1 ? type == types[parent] : [5, 6, 12].contains(type)
            return fits ? nil : "btree page \(child) at level \(level) has type \(type)"
        }
    }
}
