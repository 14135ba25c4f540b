# frozen_string_literal: true

# A token request through the binding, for comparing binding versions (ABI 0.1 flat functions
# vs the 0.2 request object): the same public call, `client_credentials`, measured
#   - through the client's token cache (cached: true, a hit: no network; what is left is the
#     binding's and liboidc's own work per call), per call in microseconds of thread CPU, and
#   - uncached (one token request to the IdP each), per call in milliseconds of wall time.
# Rounds alternate nothing (one binding per process): run it once per version on a quiet
# machine, same IdP, and compare medians.
#
#   OIDC_LIB=/prefix/lib/liboidc.so OIDC_ISSUER=https://127.0.0.1:PORT OIDC_CA_FILE=ca.pem \
#     ruby -Ilib bench/client_credentials.rb [--rounds 15] [--calls 2000] [--requests 40]

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "oidc"
require "optparse"

opts = { rounds: 15, calls: 2000, requests: 40 }
OptionParser.new do |o|
  o.on("--rounds N", Integer) { |v| opts[:rounds] = v }
  o.on("--calls N", Integer) { |v| opts[:calls] = v }
  o.on("--requests N", Integer) { |v| opts[:requests] = v }
end.parse!

def mono = Process.clock_gettime(Process::CLOCK_MONOTONIC)
def cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)
def median(a) = a.sort[a.size / 2]

oauth = Oidc::OAuthClient.new(issuer: ENV.fetch("OIDC_ISSUER"), client_id: "svc-basic",
                              client_secret: "svc-basic-secret", ca_file: ENV["OIDC_CA_FILE"])
args = { scope: %w[read], resources: ["urn:liboidc:rs256"] }
oauth.client_credentials(**args, cached: true) # warm: discovery, the cache entry

hit = Array.new(opts[:rounds]) do
  GC.start
  t = cpu
  opts[:calls].times { oauth.client_credentials(**args, cached: true).access_token }
  (cpu - t) / opts[:calls] * 1e6
end
miss = Array.new(opts[:requests]) do
  t = mono
  oauth.client_credentials(**args).access_token
  (mono - t) * 1e3
end
printf("liboidc %s, binding %s\n", Oidc.library_version, Oidc::VERSION)
printf("cached hit:   median %.2f us CPU per call (min %.2f, max %.2f; %d rounds of %d)\n",
       median(hit), hit.min, hit.max, opts[:rounds], opts[:calls])
printf("token request: median %.2f ms wall per call (min %.2f, max %.2f; %d calls)\n",
       median(miss), miss.min, miss.max, opts[:requests])
