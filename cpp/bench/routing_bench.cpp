// Routing kernel benchmark driver, C++ only (no Python): for profiling with callgrind or perf,
// and for CPU times that other processes on a shared machine do not inflate.
//
// Input: a binary graph file (int64 num_nodes, num_links, first_thru_node; int32 tail[m], head[m];
// float64 weight[m], x[n], y[n]), written by
//   python bench/bench_routing.py --dump phl.bin Philadelphia     (a TNTP network, by name)
//   python bench/bench_routing.py --dump grid.bin grid1000        (the benchmark grid)
// Build and run (the kernel library from any CMake build dir):
//   g++ -O3 -std=c++17 -Icpp/include cpp/bench/routing_bench.cpp
//       build/routing2/libsmartcore_kernel.a -lpthread -o build/routing2/routing_bench
//   build/routing2/routing_bench phl.bin p2p 20000 ch         (p2p with and without paths)
//   build/routing2/routing_bench phl.bin matrix 1000 cchxy 2  (CCH with geometric cuts, 2 threads)
//   build/routing2/routing_bench grid.bin matrix 1000 chndxy 2 (classic CH in nested dissection
//       order with geometric cuts; chnd: graph cuts only; env CH_WITNESS_SETTLE_LIMIT overrides
//       the witness search limit)
//   valgrind --tool=callgrind --toggle-collect='smartcore::shortest_paths(*'
//       build/routing2/routing_bench phl.bin p2p 2000 ch
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "smartcore/ch.hpp"
#include "smartcore/routing.hpp"

using namespace smartcore;

namespace {

struct Input {
    index_t n = 0, m = 0, ftn = 0;
    std::vector<index_t> tail, head;
    std::vector<double> w, x, y;
};

Input load(const char* path) {
    Input in;
    std::FILE* f = std::fopen(path, "rb");
    if (!f) {
        std::perror(path);
        std::exit(1);
    }
    std::int64_t hdr[3];
    if (std::fread(hdr, sizeof hdr, 1, f) != 1) std::exit(1);
    in.n = static_cast<index_t>(hdr[0]);
    in.m = static_cast<index_t>(hdr[1]);
    in.ftn = static_cast<index_t>(hdr[2]);
    auto rd = [&](auto& v, std::size_t k) {
        v.resize(k);
        if (std::fread(v.data(), sizeof(v[0]), k, f) != k) std::exit(1);
    };
    rd(in.tail, in.m);
    rd(in.head, in.m);
    rd(in.w, in.m);
    rd(in.x, in.n);
    rd(in.y, in.n);
    std::fclose(f);
    return in;
}

// Process CPU time: on a shared machine, time slices lost to other processes do not count (with
// threads > 1 it sums the threads' times: compare single-threaded runs only).
double now() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s graph.bin p2p|matrix|tree|build COUNT [ch|chnd|chndxy|cch|cchxy] [threads]\n",
                     argv[0]);
        return 2;
    }
    const Input in = load(argv[1]);
    const std::string what = argv[2];
    const int count = std::atoi(argv[3]);
    const std::string kind = argc > 4 ? argv[4] : "ch";
    const int threads = argc > 5 ? std::atoi(argv[5]) : 1;
    const Graph g = Graph::from_links(in.n, in.tail, in.head);
    std::mt19937 rng(0);
    std::uniform_int_distribution<index_t> pick(in.ftn, in.n - 1);
    std::vector<index_t> o(static_cast<std::size_t>(count)), d(o);
    for (auto& v : o) v = pick(rng);
    for (auto& v : d) v = pick(rng);

    if (what == "tree") {
        double t0 = now();
        const RoutingGraph rg(g.forward(), in.w, in.ftn);
        std::printf("routing graph %.3f s\n", now() - t0);
        DijkstraQuery q(in.n);
        std::vector<double> dist(in.n);
        std::vector<index_t> pred(in.n);
        t0 = now();
        for (int i = 0; i < count; ++i) shortest_path_tree(rg, q, o[i], {}, kInf, dist, pred);
        std::printf("tree %.3f ms/tree\n", (now() - t0) / count * 1e3);
        return 0;
    }
    double t0 = now();
    Hierarchy h;
    if (kind == "ch") {
        ChOptions opt;
        if (const char* limit = std::getenv("CH_WITNESS_SETTLE_LIMIT")) opt.witness_settle_limit = std::atoi(limit);
        h = build_contraction_hierarchy(g.forward(), in.w, in.ftn, opt);
    } else if (kind == "chnd" || kind == "chndxy") {  // classic CH in nested dissection order
        ChOptions opt;
        opt.order = ChOrder::kDissection;
        if (const char* limit = std::getenv("CH_WITNESS_SETTLE_LIMIT")) opt.witness_settle_limit = std::atoi(limit);
        if (kind == "chndxy") {
            opt.node_x = in.x;
            opt.node_y = in.y;
        }
        h = build_contraction_hierarchy(g.forward(), in.w, in.ftn, opt);
    } else {
        const bool xy = kind == "cchxy";  // coordinates for the dissection
        CustomizableCH cch = xy ? CustomizableCH(g.forward(), in.ftn, in.x, in.y) : CustomizableCH(g.forward(), in.ftn);
        std::printf("cch order+topology %.3f s, %zu triangles\n", now() - t0, cch.num_triangles());
        const double t1 = now();
        h = cch.customize(in.w);
        std::printf("customize %.3f s\n", now() - t1);
    }
    std::printf("%s build %.3f s, %d edges, %zu arcs\n", kind.c_str(), now() - t0, h.topo->num_edges(),
                h.arcs.size());
    if (what == "build") return 0;
    if (what == "p2p" || what == "dist") {
        t0 = now();
        PathBatch b = shortest_paths(h, o, d, threads);
        const double t = now() - t0;
        double sum = 0;
        for (double c : b.cost) sum += c == kInf ? 0 : c;
        std::printf("p2p paths: %.2f us/query, %zu links, checksum %.6f\n", t / count * 1e6, b.links.size(), sum);
        std::vector<double> costs(o.size());
        t0 = now();
        shortest_path_costs(h, o, d, costs, threads);
        std::printf("p2p costs: %.2f us/query\n", (now() - t0) / count * 1e6);
        std::vector<std::pair<index_t, double>> space;
        ChQuery q(h.topo->num_ranks());
        std::size_t fs = 0, bs = 0;
        for (int i = 0; i < std::min(count, 1000); ++i) {
            space.clear();
            q.upward_search(h, o[i], true, space);
            fs += space.size();
            space.clear();
            q.upward_search(h, d[i], false, space);
            bs += space.size();
        }
        std::printf("mean upward search space: fwd %.1f bwd %.1f\n", double(fs) / std::min(count, 1000),
                    double(bs) / std::min(count, 1000));
    }
    if (what == "matrix") {
        // env MATRIX_REPS: repeat (for perf), report the fastest run
        const char* reps_env = std::getenv("MATRIX_REPS");
        const int reps = reps_env ? std::max(1, std::atoi(reps_env)) : 1;
        std::vector<double> out(static_cast<std::size_t>(count) * count);
        double best = 1e300, best_wall = 1e300, sum = 0;
        for (int r = 0; r < reps; ++r) {
            t0 = now();
            const auto w0 = std::chrono::steady_clock::now();
            distance_matrix(h, o, d, out, threads);
            best = std::min(best, now() - t0);
            best_wall = std::min(best_wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
        }
        for (double c : out) sum += c == kInf ? 0 : c;
        std::printf("matrix %dx%d: %.2f ms CPU, %.2f ms wall, checksum %.6f\n", count, count, best * 1e3,
                    best_wall * 1e3, sum);
    }
    return 0;
}
