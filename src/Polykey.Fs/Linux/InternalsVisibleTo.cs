using System.Runtime.CompilerServices;

// The tests check the errno mapper, struct layouts and mount-table parsing directly.
[assembly: InternalsVisibleTo("Polykey.Fs.Tests")]
