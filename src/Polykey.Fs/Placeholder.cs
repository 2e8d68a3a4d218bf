namespace Polykey.Fs;
internal static class Placeholder { }
