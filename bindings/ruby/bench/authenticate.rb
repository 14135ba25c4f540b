# frozen_string_literal: true

# Request authentication from Ruby: a repeated RS256 bearer token through liboidc's
# verified-token cache (Client#authenticate -> oidc_authenticate), against the same call with
# the cache off (a full signature check each time) and against Client#validate. Same process,
# same token, same key; rounds alternate between the measurements so all see the same machine
# load; the median round counts. Rates are per CPU second of this thread
# (CLOCK_THREAD_CPUTIME_ID: time the thread waited for a core on a shared machine is not
# counted) and, for reference, per wall second.
#
# Breakdown rows (what a call from Ruby costs besides liboidc's own work):
#   "ffi floor"            one attached no-op-ish C call (oidc_decision_allowed(NULL)), GVL held
#   "authenticate, GVL held" the same authenticate with oidc_authenticate attached a second time
#                          without `blocking: true`: the difference is the GVL release/reacquire
#
#   OIDC_LIB=/work/abi-prefix/lib/liboidc.so.0.1 ruby -Ilib bench/authenticate.rb [--rounds 15] [--seconds 0.3]

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "oidc"
require "jwt"
require "openssl"
require "securerandom"
require "optparse"

opts = { rounds: 15, seconds: 0.3 }
OptionParser.new do |o|
  o.on("--rounds N", Integer) { |v| opts[:rounds] = v }
  o.on("--seconds S", Float) { |v| opts[:seconds] = v }
end.parse!

ISS = "https://issuer.bench.test"
AUD = "api://bench"
URL = "https://api.bench.test/items?page=2"

def mono = Process.clock_gettime(Process::CLOCK_MONOTONIC)
def cpu = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID)

key = OpenSSL::PKey::RSA.generate(2048)
jwk = JWT::JWK.new(key, "bench-rs256").export.merge(alg: "RS256", use: "sig")
now = Time.now.to_i
token = JWT.encode({ iss: ISS, aud: AUD, sub: "user-1", client_id: "bench", scope: "read write",
                     iat: now, nbf: now, exp: now + 3600, jti: SecureRandom.hex(8) },
                   key, "RS256", { kid: "bench-rs256", typ: "at+jwt" })
header = "Bearer #{token}"
common = { issuer: ISS, audiences: AUD, algorithms: "RS256", expected_typ: "at+jwt", jwks_json: { keys: [jwk] },
           required_scopes: %w[read] }
cached = Oidc::Client.new(**common)                       # default cache (4096 entries)
uncached = Oidc::Client.new(**common, token_cache_size: 0)

# the same oidc_authenticate without blocking: true (GVL held), for the breakdown only
Oidc::Native.attach_function :bench_authenticate_gvl_held, :oidc_authenticate,
                             %i[pointer pointer pointer pointer], :uint32
module Oidc
  class Client
    def bench_authenticate_gvl_held(authorization)
      req, out, err, len = Client.authn_buffers
      Native.oidc_http_request_reset(req)
      Client.add_headers(req, "Authorization", authorization, err)
      Client.put(Native.oidc_http_request_set_method(req, "GET", 3, err), err)
      Client.put(Native.oidc_http_request_set_url(req, URL, URL.bytesize, err), err)
      Client.put(@handle.use { |ptr| Native.bench_authenticate_gvl_held(ptr, req, out, err) }, err)
      d = out.read_pointer
      begin
        Decision.from_native(d, len)
      ensure
        Native.oidc_decision_free(d)
      end
    end
  end
end

# every measurement must allow the token (and a tampered one must be denied) before timing
[cached, uncached].each do |c|
  d = c.authenticate(method: "GET", url: URL, authorization: header)
  raise "not allowed: #{d.inspect}" unless d.allowed? && d.subject == "user-1" && d.token_type == "Bearer"
  h, p, s = token.split(".")
  bad = c.authenticate(method: "GET", url: URL, authorization: "Bearer #{h}.#{p}.#{s.reverse}")
  raise "tampered token allowed" if bad.allowed?
end
raise "validate" unless cached.validate(token).subject == "user-1"
raise "gvl held" unless cached.bench_authenticate_gvl_held(header).allowed?

fns = {
  "authenticate, cache hit" => -> { cached.authenticate(method: "GET", url: URL, authorization: header) },
  "authenticate, cache hit + sub" => -> { cached.authenticate(method: "GET", url: URL, authorization: header).subject },
  "authenticate, GVL held (hit)" => -> { cached.bench_authenticate_gvl_held(header) },
  "authenticate, cache off" => -> { uncached.authenticate(method: "GET", url: URL, authorization: header) },
  "validate (oidc_validate)" => -> { cached.validate(token) },
  "ffi floor (one C call)" => -> { Oidc::Native.oidc_decision_allowed(nil) }
}

# [ops per CPU second, ops per wall second] of one round of about `seconds` CPU time
def round(fn, seconds)
  n = 0
  w0 = mono
  c0 = cpu
  deadline = c0 + seconds
  while cpu < deadline
    100.times { fn.() }
    n += 100
  end
  [n / (cpu - c0), n / (mono - w0)]
end

def median(a) = a.sort[a.size / 2]

load0 = File.exist?("/proc/loadavg") ? File.read("/proc/loadavg").split[0, 3].join(" ") : "?"
puts "ruby #{RUBY_VERSION} (#{RUBY_PLATFORM}), ffi #{FFI::VERSION}, liboidc #{Oidc.library_version}, " \
     "#{OpenSSL::OPENSSL_LIBRARY_VERSION}"
puts "one RS256 token (#{token.bytesize} bytes), #{opts[:rounds]} rotating rounds of #{opts[:seconds]} s CPU, median"
puts
2.times { fns.each_value { |f| round(f, 0.1) } } # warm-up
got = fns.keys.to_h { |k| [k, []] }
opts[:rounds].times do |i|
  fns.keys.rotate(i % fns.size).each { |k| got[k] << round(fns[k], opts[:seconds]) }
end
med = got.transform_values { |rs| [median(rs.map(&:first)), median(rs.map(&:last))] }
printf("%-32s %12s %10s %12s %10s\n", "", "op/CPU-s", "us/op", "op/wall-s", "us/op wall")
med.each { |name, (c, w)| printf("%-32s %12.0f %10.2f %12.0f %10.2f\n", name, c, 1e6 / c, w, 1e6 / w) }
hit = 1e6 / med["authenticate, cache hit"][0]
off = 1e6 / med["authenticate, cache off"][0]
puts
puts format("cache hit %.2f us vs cache off %.2f us per request (%.1fx); GVL release costs %.2f us per call",
            hit, off, off / hit, hit - (1e6 / med["authenticate, GVL held (hit)"][0]))
load1 = File.exist?("/proc/loadavg") ? File.read("/proc/loadavg").split[0, 3].join(" ") : "?"
puts "load average: #{load0} (start), #{load1} (end)"
cached.close
uncached.close
