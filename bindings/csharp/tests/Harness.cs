// A minimal test runner (reflection over [Test] methods), because the Debian nunit-console
// 2.6.4 on this machine has no nunit.framework.dll to compile tests against, and
// System.Runtime.Serialization / NUnit 3 are not installed either. It prints one line per test
// and, last, "N passed, N failed" (", N skipped" when some were skipped).
//
//   mono OidcTests.exe [--filter SUBSTRING] [--list] [--timeout SECONDS]
//
// Fixtures are public classes with [Test] methods (instance or static, void or Task). A
// [OneTimeSetUp]/[OneTimeTearDown] method runs once per fixture; a failing set-up fails every
// test of that fixture. Assert.Ignore skips a test with a reason.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace Oidc.Tests
{
    [AttributeUsage(AttributeTargets.Method)] public sealed class TestAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Method)] public sealed class OneTimeSetUpAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Method)] public sealed class OneTimeTearDownAttribute : Attribute { }

    public sealed class AssertionException : Exception { public AssertionException(string m) : base(m) { } }
    public sealed class IgnoreException : Exception { public IgnoreException(string m) : base(m) { } }

    public static class Assert
    {
        public static void True(bool c, string what = "expected true") { if (!c) throw new AssertionException(what); }
        public static void False(bool c, string what = "expected false") { if (c) throw new AssertionException(what); }
        public static void Fail(string what) { throw new AssertionException(what); }
        public static void Ignore(string why) { throw new IgnoreException(why); }

        public static void AreEqual<T>(T expected, T actual, string what = null)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new AssertionException((what != null ? what + ": " : "") + "expected <" + expected + "> but was <" + actual + ">");
        }

        public static void NotNull(object o, string what = "expected non-null") { if (o == null) throw new AssertionException(what); }
        public static void Null(object o, string what = "expected null") { if (o != null) throw new AssertionException(what + ", was <" + o + ">"); }

        public static void Contains(string needle, string hay, string what = null)
        {
            if (hay == null || hay.IndexOf(needle, StringComparison.Ordinal) < 0)
                throw new AssertionException((what != null ? what + ": " : "") + "expected <" + hay + "> to contain <" + needle + ">");
        }

        public static void DoesNotContain(string needle, string hay, string what = null)
        {
            if (hay != null && hay.IndexOf(needle, StringComparison.Ordinal) >= 0)
                throw new AssertionException((what != null ? what + ": " : "") + "<" + hay + "> must not contain <" + needle + ">");
        }

        /// Runs <paramref name="f"/> and returns the exception of exactly type T (or a subclass).
        public static T Throws<T>(Action f, string what = null) where T : Exception
        {
            try { f(); }
            catch (T e) { return e; }
            catch (AggregateException ae) when (ae.InnerExceptions.Count == 1 && ae.InnerException is T) { return (T)ae.InnerException; }
            catch (Exception e) { throw new AssertionException((what != null ? what + ": " : "") + "expected " + typeof(T).Name + " but got " + e.GetType().Name + ": " + e.Message); }
            throw new AssertionException((what != null ? what + ": " : "") + "expected " + typeof(T).Name + " but nothing was thrown");
        }
    }

    public static class Runner
    {
        public static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "--probe-load") return LoadProbe.Run();
            if (args.Length == 4 && args[0] == "--probe-async-exit") return AsyncExitProbe.Run(args);
            if (args.Length == 5 && args[0] == "--probe-warm-start") return WarmStartProbe.Run(args);
            if (args.Length == 4 && args[0] == "--probe-log-exit") return LogExitProbe.Run(args);
            string filter = null;
            bool list = false;
            int timeoutSecs = 180;
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i] == "--filter" && i + 1 < args.Length) filter = args[++i];
                else if (args[i] == "--list") list = true;
                else if (args[i] == "--timeout" && i + 1 < args.Length) timeoutSecs = int.Parse(args[++i]);
                else { Console.Error.WriteLine("usage: OidcTests.exe [--filter S] [--list] [--timeout SECS]"); return 2; }
            }

            var total = Stopwatch.StartNew();
            int passed = 0, failed = 0, skipped = 0;
            bool dummy;
            var failures = new List<string>();
            var fixtures = typeof(Runner).Assembly.GetTypes()
                .Where(t => t.IsPublic && t.IsClass && t.GetMethods().Any(m => m.IsDefined(typeof(TestAttribute), false)))
                .OrderBy(t => t.Name, StringComparer.Ordinal);
            foreach (var type in fixtures)
            {
                var tests = type.GetMethods()
                    .Where(m => m.IsDefined(typeof(TestAttribute), false))
                    .Where(m => filter == null || (type.Name + "." + m.Name).IndexOf(filter, StringComparison.OrdinalIgnoreCase) >= 0)
                    .OrderBy(m => m.MetadataToken)
                    .ToList();
                if (tests.Count == 0) continue;
                if (list) { foreach (var m in tests) Console.WriteLine(type.Name + "." + m.Name); continue; }

                object fixture = type.IsAbstract ? null : Activator.CreateInstance(type);
                string setupError = null;
                var setup = type.GetMethods().FirstOrDefault(m => m.IsDefined(typeof(OneTimeSetUpAttribute), false));
                if (setup != null)
                {
                    var sw = Stopwatch.StartNew();
                    setupError = Invoke(setup, fixture, timeoutSecs, out dummy);
                    Console.WriteLine("setup {0} ({1} ms){2}", type.Name, sw.ElapsedMilliseconds, setupError == null ? "" : ": FAILED");
                }
                foreach (var m in tests)
                {
                    string name = type.Name + "." + m.Name;
                    if (setupError != null)
                    {
                        failed++;
                        failures.Add(name + ": fixture set-up failed: " + setupError);
                        Console.WriteLine("FAIL  {0}: fixture set-up failed", name);
                        continue;
                    }
                    var sw = Stopwatch.StartNew();
                    bool ignored;
                    string error = Invoke(m, fixture, timeoutSecs, out ignored);
                    if (ignored) { skipped++; Console.WriteLine("skip  {0}: {1}", name, error); }
                    else if (error == null) { passed++; Console.WriteLine("ok    {0} ({1} ms)", name, sw.ElapsedMilliseconds); }
                    else
                    {
                        failed++;
                        failures.Add(name + ": " + error);
                        Console.WriteLine("FAIL  {0} ({1} ms)\n      {2}", name, sw.ElapsedMilliseconds, error.Replace("\n", "\n      "));
                    }
                }
                var teardown = type.GetMethods().FirstOrDefault(m => m.IsDefined(typeof(OneTimeTearDownAttribute), false));
                if (teardown != null)
                {
                    string err = Invoke(teardown, fixture, 60, out dummy);
                    if (err != null) Console.WriteLine("teardown {0} failed: {1}", type.Name, err);
                }
            }
            if (list) return 0;
            Console.WriteLine();
            if (failures.Count > 0)
            {
                Console.WriteLine("Failures:");
                foreach (var f in failures) Console.WriteLine("  " + f.Split('\n')[0]);
            }
            Console.WriteLine("liboidc {0}, Mono {1}, {2:F1} s", SafeVersion(), Type.GetType("Mono.Runtime") != null ? "yes" : "no", total.Elapsed.TotalSeconds);
            Console.WriteLine("{0} passed, {1} failed{2}", passed, failed, skipped > 0 ? ", " + skipped + " skipped" : "");
            Console.Out.Flush();
            // Background threads (servers' stderr readers, abandoned timed-out tests) must not keep us alive.
            Environment.Exit(failed == 0 && passed > 0 ? 0 : 1);
            return 1;
        }

        private static string SafeVersion()
        {
            try { return Library.Version; } catch (Exception e) { return "unavailable (" + e.GetType().Name + ")"; }
        }

        /// Runs one method with a timeout; returns null on success, else the failure text.
        private static string Invoke(MethodInfo m, object fixture, int timeoutSecs, out bool ignored)
        {
            ignored = false;
            Exception caught = null;
            var t = new Thread(() =>
            {
                try
                {
                    object r = m.Invoke(m.IsStatic ? null : fixture, null);
                    var task = r as Task;
                    if (task != null) task.GetAwaiter().GetResult();
                }
                catch (TargetInvocationException e) { caught = e.InnerException; }
                catch (Exception e) { caught = e; }
            }, 16 * 1024 * 1024);
            t.IsBackground = true;
            t.Start();
            if (!t.Join(TimeSpan.FromSeconds(timeoutSecs))) return "timed out after " + timeoutSecs + " s";
            if (caught == null) return null;
            if (caught is IgnoreException) { ignored = true; return caught.Message; }
            if (caught is AssertionException) return caught.Message + "\n" + FirstFrames(caught);
            return caught.GetType().FullName + ": " + caught.Message + "\n" + FirstFrames(caught);
        }

        private static string FirstFrames(Exception e)
        {
            var lines = (e.StackTrace ?? "").Split('\n').Where(l => !l.Contains("Oidc.Tests.Assert")).Take(4);
            return string.Join("\n", lines.Select(l => l.Trim()));
        }
    }
}
