namespace Polykey.Core;
public static class Placeholder { }
