namespace Polykey.Fs.Windows;
internal static class Placeholder { }
