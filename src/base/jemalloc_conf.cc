// jemalloc's settings for the executables linked with it (cmake/allocator.cmake), read by
// jemalloc at its first allocation; MALLOC_CONF in the environment still overrides them.
//
// background_thread:true: a jemalloc thread returns freed pages to the kernel on its own
// schedule (dirty_decay_ms). Without it jemalloc purges only while the process allocates,
// so an idle broker kept what a burst (creating 20,000 partitions, say) had freed: 0.3 to
// 0.9 KiB per idle replica above what its objects take (bench/README.md, issue 21).
extern "C" {
const char* malloc_conf = "background_thread:true";
}
