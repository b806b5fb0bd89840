//! The source-neutral model: what every source's responses are mapped into, and what the
//! payloads, Home Assistant discovery and the terminal view are built from.
//!
//! Units are fixed per quantity (°C, %, hPa, mm, m/s, degrees), so a consumer reads every source
//! the same way; a source converts on the way in. Times are instants (`DateTime`), printed as
//! RFC 3339: UTC for observations, with the Europe/Madrid offset for forecasts (their days and
//! hours are local). Whether a value is stale is decided by the source, which knows how often it
//! updates.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// A measured quantity of a station, with its unit and its Home Assistant classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Quantity {
    /// Air temperature.
    Temperature,
    /// Maximum air temperature over the source's period.
    TemperatureMax,
    /// Minimum air temperature over the source's period.
    TemperatureMin,
    /// Relative humidity.
    Humidity,
    /// Pressure at station level.
    Pressure,
    /// Pressure reduced to sea level.
    PressureSeaLevel,
    /// Precipitation over the source's period.
    Precipitation,
    /// Mean wind speed.
    WindSpeed,
    /// Wind direction, where it blows from.
    WindDirection,
    /// Maximum gust.
    GustSpeed,
    /// Dew point.
    DewPoint,
    /// Global solar irradiance.
    SolarRadiation,
    /// Station latitude.
    Latitude,
    /// Station longitude.
    Longitude,
    /// Station altitude.
    Altitude,
}

impl Quantity {
    /// Every quantity, in payload order.
    pub const ALL: [Quantity; 15] = [
        Quantity::Temperature,
        Quantity::TemperatureMax,
        Quantity::TemperatureMin,
        Quantity::Humidity,
        Quantity::Pressure,
        Quantity::PressureSeaLevel,
        Quantity::Precipitation,
        Quantity::WindSpeed,
        Quantity::WindDirection,
        Quantity::GustSpeed,
        Quantity::DewPoint,
        Quantity::SolarRadiation,
        Quantity::Latitude,
        Quantity::Longitude,
        Quantity::Altitude,
    ];

    /// The JSON key and last topic level.
    pub fn name(self) -> &'static str {
        match self {
            Quantity::Temperature => "temperature",
            Quantity::TemperatureMax => "temperature_max",
            Quantity::TemperatureMin => "temperature_min",
            Quantity::Humidity => "humidity",
            Quantity::Pressure => "pressure",
            Quantity::PressureSeaLevel => "pressure_sea_level",
            Quantity::Precipitation => "precipitation",
            Quantity::WindSpeed => "wind_speed",
            Quantity::WindDirection => "wind_direction",
            Quantity::GustSpeed => "gust_speed",
            Quantity::DewPoint => "dew_point",
            Quantity::SolarRadiation => "solar_radiation",
            Quantity::Latitude => "latitude",
            Quantity::Longitude => "longitude",
            Quantity::Altitude => "altitude",
        }
    }

    /// The unit, as published in `units` and to Home Assistant.
    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Temperature
            | Quantity::TemperatureMax
            | Quantity::TemperatureMin
            | Quantity::DewPoint => "°C",
            Quantity::Humidity => "%",
            Quantity::Pressure | Quantity::PressureSeaLevel => "hPa",
            Quantity::Precipitation => "mm",
            Quantity::WindSpeed | Quantity::GustSpeed => "m/s",
            Quantity::WindDirection | Quantity::Latitude | Quantity::Longitude => "°",
            Quantity::SolarRadiation => "W/m²",
            Quantity::Altitude => "m",
        }
    }

    /// Home Assistant's sensor device class.
    pub fn device_class(self) -> Option<&'static str> {
        Some(match self {
            Quantity::Temperature
            | Quantity::TemperatureMax
            | Quantity::TemperatureMin
            | Quantity::DewPoint => "temperature",
            Quantity::Humidity => "humidity",
            Quantity::Pressure | Quantity::PressureSeaLevel => "atmospheric_pressure",
            Quantity::Precipitation => "precipitation",
            Quantity::WindSpeed | Quantity::GustSpeed => "wind_speed",
            Quantity::WindDirection => "wind_direction",
            Quantity::SolarRadiation => "irradiance",
            Quantity::Latitude | Quantity::Longitude | Quantity::Altitude => return None,
        })
    }

    /// Home Assistant's state class: angles have their own, so that statistics average them
    /// on the circle.
    pub fn state_class(self) -> &'static str {
        match self {
            Quantity::WindDirection => "measurement_angle",
            _ => "measurement",
        }
    }

    /// Latitude, longitude and altitude describe the station, not the weather: Home Assistant
    /// gets them as attributes, not as sensors.
    pub fn is_location(self) -> bool {
        matches!(
            self,
            Quantity::Latitude | Quantity::Longitude | Quantity::Altitude
        )
    }
}

/// Home Assistant's weather conditions (the `condition` of its weather entities).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Clear sky by night.
    ClearNight,
    /// Overcast.
    Cloudy,
    /// Something no other condition covers (dust, haze).
    Exceptional,
    /// Fog or mist.
    Fog,
    /// Hail.
    Hail,
    /// Thunderstorm.
    Lightning,
    /// Thunderstorm with rain.
    LightningRainy,
    /// Some clouds.
    PartlyCloudy,
    /// Heavy rain, showers.
    Pouring,
    /// Rain.
    Rainy,
    /// Snow.
    Snowy,
    /// Sleet.
    SnowyRainy,
    /// Clear sky by day.
    Sunny,
    /// Wind.
    Windy,
}

impl Condition {
    /// Every condition (the `options` of the Home Assistant enum sensor).
    pub const ALL: [Condition; 14] = [
        Condition::ClearNight,
        Condition::Cloudy,
        Condition::Exceptional,
        Condition::Fog,
        Condition::Hail,
        Condition::Lightning,
        Condition::LightningRainy,
        Condition::PartlyCloudy,
        Condition::Pouring,
        Condition::Rainy,
        Condition::Snowy,
        Condition::SnowyRainy,
        Condition::Sunny,
        Condition::Windy,
    ];

    /// Home Assistant's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::ClearNight => "clear-night",
            Condition::Cloudy => "cloudy",
            Condition::Exceptional => "exceptional",
            Condition::Fog => "fog",
            Condition::Hail => "hail",
            Condition::Lightning => "lightning",
            Condition::LightningRainy => "lightning-rainy",
            Condition::PartlyCloudy => "partlycloudy",
            Condition::Pouring => "pouring",
            Condition::Rainy => "rainy",
            Condition::Snowy => "snowy",
            Condition::SnowyRainy => "snowy-rainy",
            Condition::Sunny => "sunny",
            Condition::Windy => "windy",
        }
    }
}

/// The sky as the source words it, and the Home Assistant condition it maps to.
#[derive(Debug, Clone, PartialEq)]
pub struct Sky {
    /// The source's own text (`Cubierto con nieve`, `Nubes e claros`).
    pub text: String,
    /// The matching condition, when the source's code is known.
    pub condition: Option<Condition>,
}

/// The latest reading of a station.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The source's station id.
    pub station: String,
    /// Station name, tidied.
    pub name: Option<String>,
    /// When it was measured.
    pub time: DateTime<Utc>,
    /// The values present, each quantity at most once, in [`Quantity::ALL`] order.
    pub values: Vec<(Quantity, f64)>,
    /// Older than the source's limit: published, but not as current.
    pub stale: bool,
}

impl Reading {
    /// The value of `q`, if the station reported it.
    pub fn get(&self, q: Quantity) -> Option<f64> {
        self.values.iter().find(|(k, _)| *k == q).map(|(_, v)| *v)
    }
}

/// The current conditions the source reports for a municipality.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// INE code.
    pub municipality: String,
    /// Name.
    pub name: Option<String>,
    /// When it was observed.
    pub time: DateTime<Utc>,
    /// Air temperature, °C.
    pub temperature: Option<f64>,
    /// Feels-like temperature, °C.
    pub feels_like: Option<f64>,
    /// The sky.
    pub sky: Option<Sky>,
    /// Wind direction, degrees.
    pub wind_direction: Option<f64>,
    /// Older than the source's limit.
    pub stale: bool,
}

/// What a forecast document says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastHeader {
    /// INE code.
    pub municipality: String,
    /// Name.
    pub name: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// When it was issued, when the source says.
    pub issued: Option<DateTime<Tz>>,
    /// Too old to trust, by the source's rules.
    pub stale: bool,
}

/// One day of a daily forecast.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Day {
    /// The local date.
    pub date: Option<NaiveDate>,
    /// °C.
    pub temperature_max: Option<f64>,
    /// °C.
    pub temperature_min: Option<f64>,
    /// %.
    pub humidity_max: Option<f64>,
    /// %.
    pub humidity_min: Option<f64>,
    /// The day's highest, %.
    pub precipitation_probability: Option<f64>,
    /// The sky.
    pub sky: Option<Sky>,
    /// m/s.
    pub wind_speed: Option<f64>,
    /// Degrees; none when calm.
    pub wind_direction: Option<f64>,
    /// UV index.
    pub uv_max: Option<f64>,
}

/// A daily forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyForecast {
    /// Ids, issue time, staleness.
    pub header: ForecastHeader,
    /// The days, first to last.
    pub days: Vec<Day>,
}

/// One hour of an hourly forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct Hour {
    /// Start of the hour.
    pub time: DateTime<Tz>,
    /// °C.
    pub temperature: Option<f64>,
    /// °C.
    pub feels_like: Option<f64>,
    /// %.
    pub humidity: Option<f64>,
    /// mm.
    pub precipitation: Option<f64>,
    /// %.
    pub precipitation_probability: Option<f64>,
    /// The sky.
    pub sky: Option<Sky>,
    /// m/s.
    pub wind_speed: Option<f64>,
    /// Degrees.
    pub wind_direction: Option<f64>,
    /// m/s.
    pub gust_speed: Option<f64>,
}

impl Hour {
    /// An hour with nothing known but its start.
    pub fn at(time: DateTime<Tz>) -> Self {
        Hour {
            time,
            temperature: None,
            feels_like: None,
            humidity: None,
            precipitation: None,
            precipitation_probability: None,
            sky: None,
            wind_speed: None,
            wind_direction: None,
            gust_speed: None,
        }
    }
}

/// An hourly forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct HourlyForecast {
    /// Ids, issue time, staleness.
    pub header: ForecastHeader,
    /// The hours, first to last.
    pub hours: Vec<Hour>,
}

/// Everything a source holds, mapped into the model as of one instant.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Station readings.
    pub readings: Vec<Reading>,
    /// Municipality observations.
    pub current: Vec<Current>,
    /// Daily forecasts.
    pub daily: Vec<DailyForecast>,
    /// Hourly forecasts.
    pub hourly: Vec<HourlyForecast>,
}
