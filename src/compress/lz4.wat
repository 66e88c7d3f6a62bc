;; LZ4 block decompression in WebAssembly: the same rules as src/erofs/reader/lz4.ts (full and partial modes,
;; every input read and back-reference checked), written here because V8's code for the JavaScript loop runs
;; ~10x slower than C's on EROFS pclusters, and this is the one cost that decides a compressed image's CPU.
;; Assembled by scripts/build-lz4-wasm.mjs into src/compress/lz4-wasm-module.ts (wat2wasm from the wabt
;; package); test/erofs/unit/lz4-wasm.test.ts checks the two decoders agree.
;;
;; The caller copies the input into memory at `ip`, with at least SLACK (32) bytes of memory after `iend` and
;; after `op + olen` (the output follows the input). The slack lets short copies move 8 or 16 bytes at once:
;; an over-read of the input or an over-write past the current output position lands in bytes that are read
;; as garbage and never trusted, or overwritten by the next sequence. All lengths are unsigned and the caller
;; keeps the input under 8 MiB, so a length built from 255-bytes (at most 255 * 8 Mi) cannot wrap.
;;
;; decode(ip, iend, op, olen, partial) -> bytes written (>= 0), or a negative code:
;;   -1 input ends before a sequence        -2 input ends inside a literal length
;;   -3 literals run past the input         -4 literals run past the output
;;   -5 input ends inside a match offset    -6 match offset points before the output start
;;   -7 input ends inside a match length    -8 match runs past the output
;;   -9 the output is not filled (full mode)
(module
  (memory (export "memory") 1)
  (func (export "decode") (param $ip i32) (param $iend i32) (param $op i32) (param $olen i32) (param $partial i32) (result i32)
    (local $ostart i32) (local $oend i32) (local $token i32) (local $len i32) (local $b i32)
    (local $off i32) (local $from i32) (local $stop i32) (local $dist i32)
    (local.set $ostart (local.get $op))
    (local.set $oend (i32.add (local.get $op) (local.get $olen)))
    (if (i32.eqz (local.get $olen)) (then (return (i32.const 0))))
    (block $last
      (loop $sequence
        ;; token: literal length (high nibble), match length - 4 (low nibble)
        (if (i32.ge_u (local.get $ip) (local.get $iend)) (then (return (i32.const -1))))
        (local.set $token (i32.load8_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
        (local.set $len (i32.shr_u (local.get $token) (i32.const 4)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then
            (loop $litlen
              (if (i32.ge_u (local.get $ip) (local.get $iend)) (then (return (i32.const -2))))
              (local.set $b (i32.load8_u (local.get $ip)))
              (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
              (local.set $len (i32.add (local.get $len) (local.get $b)))
              (br_if $litlen (i32.eq (local.get $b) (i32.const 255))))))
        ;; literals
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $iend) (local.get $ip))) (then (return (i32.const -3))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $oend) (local.get $op)))
          (then
            (if (i32.eqz (local.get $partial)) (then (return (i32.const -4))))
            (memory.copy (local.get $op) (local.get $ip) (i32.sub (local.get $oend) (local.get $op)))
            (return (local.get $olen))))
        (if (i32.le_u (local.get $len) (i32.const 16))
          (then
            (i64.store (local.get $op) (i64.load (local.get $ip)))
            (i64.store offset=8 (local.get $op) (i64.load offset=8 (local.get $ip))))
          (else (memory.copy (local.get $op) (local.get $ip) (local.get $len))))
        (local.set $ip (i32.add (local.get $ip) (local.get $len)))
        (local.set $op (i32.add (local.get $op) (local.get $len)))
        ;; the last sequence has literals only
        (br_if $last (i32.eq (local.get $ip) (local.get $iend)))
        (if (i32.and (local.get $partial) (i32.eq (local.get $op) (local.get $oend)))
          (then (return (local.get $olen))))
        ;; match offset
        (if (i32.lt_u (i32.sub (local.get $iend) (local.get $ip)) (i32.const 2)) (then (return (i32.const -5))))
        (local.set $off (i32.load16_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 2)))
        (if (i32.or (i32.eqz (local.get $off)) (i32.gt_u (local.get $off) (i32.sub (local.get $op) (local.get $ostart))))
          (then (return (i32.const -6))))
        ;; match length
        (local.set $len (i32.and (local.get $token) (i32.const 15)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then
            (loop $matchlen
              (if (i32.ge_u (local.get $ip) (local.get $iend)) (then (return (i32.const -7))))
              (local.set $b (i32.load8_u (local.get $ip)))
              (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
              (local.set $len (i32.add (local.get $len) (local.get $b)))
              (br_if $matchlen (i32.eq (local.get $b) (i32.const 255))))))
        (local.set $len (i32.add (local.get $len) (i32.const 4)))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $oend) (local.get $op)))
          (then
            (if (i32.eqz (local.get $partial)) (then (return (i32.const -8))))
            (local.set $len (i32.sub (local.get $oend) (local.get $op)))))
        (local.set $from (i32.sub (local.get $op) (local.get $off)))
        (local.set $stop (i32.add (local.get $op) (local.get $len)))
        (if (i32.ge_u (local.get $off) (local.get $len))
          (then
            ;; no overlap
            (if (i32.le_u (local.get $len) (i32.const 16))
              (then
                (i64.store (local.get $op) (i64.load (local.get $from)))
                (i64.store offset=8 (local.get $op) (i64.load offset=8 (local.get $from))))
              (else (memory.copy (local.get $op) (local.get $from) (local.get $len)))))
          (else
            ;; overlapping: the match repeats the last `off` bytes. Below 8, copy bytes until the pattern is
            ;; `dist` >= 8 bytes long (a multiple of off), then 8 bytes at a time from `dist` back, which reads
            ;; only bytes already final.
            (local.set $dist (local.get $off))
            (if (i32.lt_u (local.get $off) (i32.const 8))
              (then
                (loop $grow
                  (if (i32.lt_u (local.get $dist) (i32.const 8))
                    (then (local.set $dist (i32.add (local.get $dist) (local.get $off))) (br $grow))))
                (block $bytesdone
                  (loop $bytes
                    (br_if $bytesdone (i32.ge_u (local.get $op) (local.get $stop)))
                    (br_if $bytesdone (i32.ge_u (local.get $op) (i32.add (local.get $from) (local.get $dist))))
                    (i32.store8 (local.get $op) (i32.load8_u (i32.sub (local.get $op) (local.get $off))))
                    (local.set $op (i32.add (local.get $op) (i32.const 1)))
                    (br $bytes)))
                (local.set $from (i32.sub (local.get $op) (local.get $dist)))))
            (block $wordsdone
              (loop $words
                (br_if $wordsdone (i32.ge_u (local.get $op) (local.get $stop)))
                (i64.store (local.get $op) (i64.load (local.get $from)))
                (local.set $op (i32.add (local.get $op) (i32.const 8)))
                (local.set $from (i32.add (local.get $from) (i32.const 8)))
                (br $words)))))
        (local.set $op (local.get $stop))
        (if (i32.and (local.get $partial) (i32.eq (local.get $op) (local.get $oend)))
          (then (return (local.get $olen))))
        (br $sequence)))
    (if (i32.and (i32.eqz (local.get $partial)) (i32.ne (local.get $op) (local.get $oend)))
      (then (return (i32.const -9))))
    (i32.sub (local.get $op) (local.get $ostart))))
